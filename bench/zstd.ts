/**
 * zstd (lib/zstd.ts, @toondepauw/node-zstd since zstd-napi needed a compiler): compress and
 * decompress MB/s on Arrow IPC bytes of the kind spills and toArrow write (int32, float64,
 * timestamp, string columns), in 1 MB pieces, synchronous (Arrow codec) and on the thread pool
 * (Parquet pages), against gzip level 6 of node:zlib as the baseline. Every case checks its round
 * trip (bytes and CRC-32). ZSTD_BENCH_MB sets the size (default 50).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { zstdCompress, zstdCompressSync, zstdDecompressSync } from '../lib/formats/zstd.ts';
import { crc32 } from '../lib/formats/checksum.ts';
import { BENCH_RUNS, median, type BenchRow } from './common.ts';

function arrowBytes(megabytes: number): Buffer {
  const n = Math.round((megabytes * 1e6) / 24);
  const id = new Int32Array(n);
  const px = new Float64Array(n);
  const ts = new BigInt64Array(n);
  const sym: string[] = [];
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    id[i] = i;
    px[i] = 100 + Math.round((seed / 2 ** 31) * 10000) / 100;
    ts[i] = BigInt(1.7e12 + i * 1000);
    sym.push(`${['AAPL', 'MSFT', 'GOOG', 'AMZN', 'TSLA', 'NVDA'][i % 6]}${i % 97}`);
  }
  return Buffer.from(tableToIPC(tableFromArrays({ id, px, ts, sym }), 'file'));
}

export async function run(): Promise<BenchRow[]> {
  const data = arrowBytes(Number(process.env.ZSTD_BENCH_MB ?? 50));
  const pieces: Buffer[] = [];
  for (let o = 0; o < data.length; o += 1 << 20) pieces.push(data.subarray(o, Math.min(data.length, o + (1 << 20))));
  const expected = crc32(data);
  const cases: Record<string, { compress: (b: Buffer) => Buffer | Promise<Buffer>; decompress: (b: Buffer) => Buffer }> = {
    'gzip -6 (baseline)': { compress: (b) => gzipSync(b), decompress: (b) => gunzipSync(b) },
    'zstd sync (Arrow codec)': { compress: (b) => zstdCompressSync(b), decompress: (b) => zstdDecompressSync(b) },
    'zstd thread pool (Parquet pages)': { compress: (b) => zstdCompress(b), decompress: (b) => zstdDecompressSync(b) },
  };
  const times: Record<string, { c: number[]; d: number[]; ratio: number }> = {};
  for (let r = 0; r < BENCH_RUNS; r++) {
    for (const [name, codec] of Object.entries(cases)) {
      let started = performance.now();
      const packed: Buffer[] = [];
      for (const piece of pieces) packed.push(await codec.compress(piece));
      const c = performance.now() - started;
      started = performance.now();
      const unpacked = packed.map((p) => codec.decompress(p));
      const d = performance.now() - started;
      const back = Buffer.concat(unpacked);
      if (back.length !== data.length || crc32(back) !== expected) throw new Error(`${name}: the round trip changed the bytes`);
      const t = (times[name] ??= { c: [], d: [], ratio: 0 });
      t.c.push(c);
      t.d.push(d);
      t.ratio = data.length / packed.reduce((n, p) => n + p.length, 0);
    }
  }
  const mb = data.length / 1e6;
  const base = times['gzip -6 (baseline)']!;
  const rows: BenchRow[] = [];
  for (const [name, t] of Object.entries(times)) {
    rows.push({ case: `${name} compress`, mbPerSec: mb / (median(t.c) / 1000), ratio: median(base.c) / median(t.c), note: `size ratio ${t.ratio.toFixed(2)}; ${mb.toFixed(0)} MB Arrow IPC in 1 MB pieces` });
    rows.push({ case: `${name} decompress`, mbPerSec: mb / (median(t.d) / 1000), ratio: median(base.d) / median(t.d), note: 'ratio: speed against gzip' });
  }
  return rows;
}
