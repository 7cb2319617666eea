/**
 * Spill throughput: uncompressed Arrow bytes per second into `toSpill` (fsync included) with
 * none, lz4 and zstd, against a raw disk write of the same uncompressed bytes in the same run;
 * rows/s when the input is row batches; replay MB/s and rows/s; compression ratios; peak RSS
 * while replaying a spill several times larger than the cache. Data: tick rows with free text
 * (SPILL_BENCH_MB of uncompressed Arrow, default 160).
 */
import { open, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { pipeline } from '../lib/core/pipeline.ts';
import { BatchSource } from '../lib/core/source.ts';
import { Batch, type Row } from '../lib/core/batch.ts';
import { rowsToRecordBatch, recordBatchBytes } from '../lib/formats/arrow/convert.ts';
import { toSpill } from '../sinks/toSpill.ts';
import { openSpill } from '../lib/formats/spill/spilled.ts';
import { BENCH_RUNS, arrowBatchSource, median, type BenchRow } from './common.ts';
import { random as rng } from '../samples/trades-data.ts';

const TARGET_MB = Number(process.env.SPILL_BENCH_MB ?? 160);
const BATCH_ROWS = 32_768;
const NOTES = [
  '',
  'block trade',
  'client "VIP", desk 4',
  'iceberg, partial',
  'cross',
  'odd lot',
  'late print, revised',
  'auction close',
  'dark pool fill',
];

/** Tick rows with free text: symbol, timestamp, price walk, size, venue, a note of random words. */
function tickRows(count: number, start: number, random: () => number, words: string[]): Row[] {
  const syms = ['AAPL', 'MSFT', 'GOOG', 'AMZN', 'NVDA', 'TSLA', 'META', 'BRK.B', 'JPM', 'V', 'XOM', 'UNH'];
  const rows: Row[] = new Array(count);
  let price = 100 + random() * 50;
  for (let i = 0; i < count; i++) {
    price += (random() - 0.5) * 0.2;
    // most notes are canned desk remarks, a third are free text of random words
    let note = NOTES[Math.floor(random() * NOTES.length)]!;
    if (random() < 0.35) {
      const n = 3 + Math.floor(random() * 10);
      for (let w = 0; w < n; w++) note += ` ${words[Math.floor(random() * words.length)]!}`;
    }
    rows[i] = {
      seq: start + i,
      ts: new Date(1_700_000_000_000 + (start + i) * 13),
      sym: syms[Math.floor(random() * syms.length)]!,
      price: Math.round(price * 10_000) / 10_000,
      size: 1 + Math.floor(random() * 5000),
      venue: random() < 0.5 ? 'XNAS' : 'ARCX',
      note: `${note} #${Math.floor(random() * 1e9).toString(36)}`,
    };
  }
  return rows;
}

function data(): { rowBatches: Row[][]; arrowBatches: RecordBatch[]; bytes: number; rows: number } {
  const random = rng(42);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = Array.from({ length: 4000 }, () =>
    Array.from({ length: 2 + Math.floor(random() * 9) }, () => letters[Math.floor(random() * 26)]!).join(''),
  );
  const rowBatches: Row[][] = [];
  const arrowBatches: RecordBatch[] = [];
  let bytes = 0;
  let rows = 0;
  while (bytes < TARGET_MB * 1e6) {
    const r = tickRows(BATCH_ROWS, rows, random, words);
    const b = rowsToRecordBatch(r);
    rowBatches.push(r);
    arrowBatches.push(b);
    bytes += recordBatchBytes(b);
    rows += r.length;
  }
  return { rowBatches, arrowBatches, bytes, rows };
}

function rowSource(batches: Row[][]): BatchSource {
  return new BatchSource({
    name: 'bench',
    async *open() {
      let rowStart = 0;
      for (const [index, rows] of batches.entries()) {
        yield new Batch(rows, { source: 'bench', index, rowStart });
        rowStart += rows.length;
      }
    },
  });
}

/** Writes every buffer of every batch with writev (one write in flight), then fdatasyncs. */
async function rawWrite(dir: string, batches: RecordBatch[]): Promise<number> {
  const file = path.join(dir, `raw-${Math.random().toString(36).slice(2)}.bin`);
  const handle = await open(file, 'w', 0o600);
  let bytes = 0;
  try {
    for (const batch of batches) {
      const views: NodeJS.ArrayBufferView[] = [];
      const visit = (d: RecordBatch['data']): void => {
        for (const buf of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as (NodeJS.ArrayBufferView | undefined)[])
          if (buf && buf.byteLength) views.push(buf);
        for (const c of d.children) visit(c as RecordBatch['data']);
      };
      for (const child of batch.data.children) visit(child as RecordBatch['data']);
      let left = views.reduce((n, v) => n + v.byteLength, 0);
      bytes += left;
      // writev may write part: finish the rest
      let pending = views;
      while (left > 0) {
        const { bytesWritten } = await handle.writev(pending);
        left -= bytesWritten;
        if (left > 0)
          pending = [
            Buffer.concat(pending.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))).subarray(-left),
          ];
      }
    }
    await handle.datasync();
  } finally {
    await handle.close();
    await rm(file, { force: true });
  }
  return bytes;
}

/** Reads every spill file of `dir` front to back (1 MB reads): the raw baseline of replay. */
async function rawRead(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let bytes = 0;
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.arrow')).sort()) {
    const handle = await open(path.join(dir, name), 'r');
    try {
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
  return bytes;
}

async function spillOnce(
  dir: string,
  source: BatchSource,
  compression: 'none' | 'lz4' | 'zstd',
): Promise<{ ms: number; dir: string; bytesOnDisk: number; rawBytes: number }> {
  const target = path.join(dir, `spill-${compression}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const { output } = await pipeline(source, toSpill({ budget: 0, compression, keep: true, dir: target }), {
    governor: false,
  });
  const ms = performance.now() - started;
  const expected = source.progress().rows;
  if (output.numRows !== expected || output.manifest.numRows !== expected)
    throw new Error(
      `toSpill ${compression} kept ${output.numRows} rows (${output.manifest.numRows} on disk), expected ${expected}`,
    );
  await output.dispose();
  return {
    ms,
    dir: target,
    bytesOnDisk: output.bytesOnDisk,
    rawBytes: output.manifest.files.reduce((n, f) => n + f.rawBytes, 0),
  };
}

/**
 * Runs `body` in a fresh process, with `openSpill` imported and `dir` (the spill) in scope, and
 * returns the JSON it writes to stdout. The script is written beside the spill directory.
 */
async function inFreshProcess<T>(dir: string, name: string, body: string): Promise<T> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const script = path.join(path.dirname(dir), `${name}.mts`);
  await writeFile(
    script,
    `import { openSpill } from ${JSON.stringify(path.join(root, 'lib/formats/spill/spilled.ts'))};
const dir = process.argv[2];
${body}`,
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', script, dir],
    { cwd: root },
  );
  return JSON.parse(stdout) as T;
}

/**
 * Ordered replay through `batches()` as a user's process runs it: a fresh process holding only
 * the spill (the bench's own process holds its 1.2 GB of input, whose collections its replay
 * pays for). Three passes, the median; each pass checks every `seq` once.
 */
async function childReplaySpeed(dir: string, bytes: number, rows: number): Promise<BenchRow> {
  const r = await inFreshProcess<{ ms: number[]; sums: number[] }>(
    dir,
    'replay-child',
    `const ms = [];
const sums = [];
for (let pass = 0; pass < 3; pass++) {
  const s = await openSpill(dir, { cacheBytes: 16e6 });
  const t = performance.now();
  let sum = 0;
  for await (const b of s.batches()) {
    const seq = b.getChild('seq').toArray();
    for (let i = 0; i < seq.length; i++) sum += Number(seq[i]);
  }
  ms.push(performance.now() - t);
  sums.push(sum);
}
process.stdout.write(JSON.stringify({ ms, sums }));
`,
  );
  const want = (rows * (rows - 1)) / 2;
  if (r.sums.some((s) => s !== want))
    throw new Error(`fresh-process replay sums ${r.sums.join(', ')}, expected ${want}`);
  const ms = median(r.ms);
  return {
    case: 'replay batches() lz4 in a fresh process (uncompressed MB/s of Arrow data)',
    mbPerSec: bytes / 1e6 / (ms / 1000),
    rowsPerSec: rows / (ms / 1000),
    note: `goal >= 500 MB/s; median of 3 passes (${r.ms.map((m) => (bytes / 1e6 / (m / 1000)).toFixed(0)).join(', ')} MB/s), every seq checked`,
  };
}

/** Peak RSS of a fresh process replaying the spill (rows() then batches()), sampled every 10 ms. */
async function childReplayRss(dir: string, cacheBytes: number, bytes: number): Promise<BenchRow> {
  const r = await inFreshProcess<{ before: number; peak: number }>(
    dir,
    'rss-child',
    `const before = process.memoryUsage().rss;
let peak = before;
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
const s = await openSpill(dir, { cacheBytes: ${cacheBytes} });
let n = 0;
for await (const r of s.rows()) n++;
for await (const b of s.batches()) n += b.numRows;
for (let i = 0; i < 500; i++) await s.get(Math.floor(Math.random() * s.numRows));
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
await s.dispose();
process.stdout.write(JSON.stringify({ before, peak, n }));
`,
  );
  return {
    case: 'peak RSS of a fresh process replaying the lz4 spill (rows, batches, 500 get)',
    peakRss: r.peak,
    note: `${(bytes / 1e6).toFixed(0)} MB uncompressed spill, cacheBytes ${cacheBytes / 1e6} MB; RSS at start ${(r.before / 1e6).toFixed(0)} MB`,
  };
}

/** Runs the spill benchmark; returns its rows. */
export async function run(): Promise<BenchRow[]> {
  const input = data();
  const { bytes, rows } = input;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spillway-bench-spill-'));
  const out: BenchRow[] = [];
  try {
    const runs = Math.max(1, BENCH_RUNS);
    const times: Record<string, number[]> = { raw: [], none: [], lz4: [], zstd: [], rowsLz4: [] };
    const ratios: Record<string, number> = {};
    let lz4Dir = '';
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      await rawWrite(dir, input.arrowBatches);
      times.raw!.push(performance.now() - started);
      for (const c of ['none', 'lz4', 'zstd'] as const) {
        const res = await spillOnce(dir, arrowBatchSource(input.arrowBatches, 'bench'), c);
        times[c]!.push(res.ms);
        ratios[c] = res.rawBytes / res.bytesOnDisk;
        if (c === 'lz4' && !lz4Dir) lz4Dir = res.dir;
        else await rm(res.dir, { recursive: true, force: true });
      }
      const res = await spillOnce(dir, rowSource(input.rowBatches), 'lz4');
      times.rowsLz4!.push(res.ms);
      await rm(res.dir, { recursive: true, force: true });
    }
    const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
    const raw = mbps(median(times.raw!));
    out.push({
      case: 'raw disk write of the same uncompressed bytes (writev + fdatasync)',
      mbPerSec: raw,
      ratio: 1,
      note: `${(bytes / 1e6).toFixed(0)} MB, ${rows.toLocaleString('en-US')} rows`,
    });
    for (const c of ['none', 'lz4', 'zstd'] as const) {
      const m = mbps(median(times[c]!));
      out.push({
        case: `toSpill Arrow batches, ${c} (uncompressed MB/s incl. fsync)`,
        mbPerSec: m,
        rowsPerSec: rows / (median(times[c]!) / 1000),
        ratio: m / raw,
        note: `ratio vs raw write; compression ratio ${ratios[c]!.toFixed(2)}`,
      });
    }
    out.push({
      case: 'toSpill row batches, lz4 (rows -> Arrow included)',
      rowsPerSec: rows / (median(times.rowsLz4!) / 1000),
      mbPerSec: mbps(median(times.rowsLz4!)),
    });

    // replay of the lz4 spill: batches (decode) and rows (decode + to JS objects), cache far smaller than the spill
    // the input data is not needed any more: a replay must not pay for marking 1.3 GB of bench rows
    // in every collection its allocations trigger (a process replaying a spill holds its own data)
    input.rowBatches = [];
    input.arrowBatches = [];
    (globalThis as { gc?: () => void }).gc?.();
    const cacheBytes = 16e6;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      let t = performance.now();
      const rawBytes = await rawRead(lz4Dir);
      const rawReadMs = performance.now() - t;
      out.push({
        case: 'raw read of the lz4 spill files (1 MB reads, page cache warm)',
        mbPerSec: rawBytes / 1e6 / (rawReadMs / 1000),
        note: `${(rawBytes / 1e6).toFixed(0)} MB on disk; baseline of the replay rows below`,
      });
      const spilled = await openSpill(lz4Dir, { cacheBytes });
      t = performance.now();
      let n = 0;
      let seqSum = 0;
      for await (const b of spilled.batches()) {
        n += b.numRows;
        // the content, not only the count: seq runs 0..rows-1 once each (a typed-array sum: ~1 ms in all)
        const seq = b.getChild('seq')!.toArray() as ArrayLike<number | bigint>;
        for (let i = 0; i < seq.length; i++) seqSum += Number(seq[i]);
      }
      const batchMs = performance.now() - t;
      if (n !== rows || seqSum !== (rows * (rows - 1)) / 2)
        throw new Error(`replayed ${n} rows (seq sum ${seqSum}), expected ${rows}`);
      out.push({
        case: 'replay batches() lz4 (uncompressed MB/s of Arrow data)',
        mbPerSec: mbps(batchMs),
        rowsPerSec: rows / (batchMs / 1000),
        note: 'in the bench process, which still holds its 1.2 GB of input (a fresh process: below); each batch read once, its CRC-32 checked, then decoded; 4 batches read ahead',
      });
      t = performance.now();
      n = 0;
      for await (const row of spilled.rows()) if ((row as { seq: number }).seq === n) n++;
      const rowMs = performance.now() - t;
      if (n !== rows) throw new Error(`rows() out of order at ${n}`);
      out.push({ case: 'replay rows() lz4', rowsPerSec: rows / (rowMs / 1000), mbPerSec: mbps(rowMs) });
      const random = rng(7);
      t = performance.now();
      for (let i = 0; i < 2000; i++) {
        const k = Math.floor(random() * rows);
        const row = (await spilled.get(k)) as { seq: number };
        if (row.seq !== k) throw new Error(`get(${k}) returned seq ${row.seq}`);
      }
      out.push({
        case: 'get(i) random access, 2000 rows',
        rowsPerSec: 2000 / ((performance.now() - t) / 1000),
        note: `cacheBytes ${cacheBytes / 1e6} MB, spill ${(bytes / 1e6).toFixed(0)} MB uncompressed`,
      });
      await spilled.dispose();
    } finally {
      clearInterval(sampler);
    }
    out.push({
      case: 'RSS growth while replaying in this process',
      peakRss: peak - baseline,
      note: `above ${(baseline / 1e6).toFixed(0)} MB held by the bench data; includes garbage not yet collected`,
    });
    out.push(await childReplaySpeed(lz4Dir, bytes, rows));
    out.push(await childReplayRss(lz4Dir, cacheBytes, bytes));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
