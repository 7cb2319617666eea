/**
 * zstd (lib/formats/zstd.ts): compress and decompress MB/s on Arrow IPC bytes of the kind spills
 * and toArrow write (int32, float64, timestamp, string columns), in 1 MB pieces, synchronous
 * (Arrow codec, Parquet pages) and on the thread pool, against gzip level 6 of node:zlib as the
 * baseline. Decompression is also measured through each decoder alone: node-zstd's decodeSync,
 * zstddec (WebAssembly, the capped fallback), fzstd (what Parquet pages used through
 * hyparquet-compressors), and, when ZSTD_ALT_DIR names a node_modules folder that
 * holds them, zstd-napi (the compiled binding used before), @bokuweb/zstd-wasm and
 * @mongodb-js/zstd (async only). Every case checks its round trip (bytes and CRC-32).
 * ZSTD_BENCH_MB sets the size (default 50).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { join } from 'node:path';
import { Decoder } from '@toondepauw/node-zstd';
import { decompress as fzstd } from 'fzstd';
import { ZSTDDecoder } from 'zstddec';
import { zstdCompress, zstdCompressSync, zstdDecompressSync } from '../lib/formats/zstd.ts';

const wasm = new ZSTDDecoder();
await wasm.init();
const wasmDecode = (b: Buffer, size: number): Uint8Array => wasm.decode(b, size);
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

type Case = {
  compress: (b: Buffer) => Buffer;
  decompress: (b: Buffer, size: number) => Uint8Array | Promise<Uint8Array>;
};

/** Decoders measured for comparison only (compression through node-zstd, as spillway writes). */
async function alternatives(): Promise<Record<string, Case>> {
  const compress = (b: Buffer): Buffer => zstdCompressSync(b);
  const node = new Decoder();
  const out: Record<string, Case> = {
    'node-zstd decodeSync (alternative)': { compress, decompress: (b) => node.decodeSync(b) },
    'fzstd (alternative)': { compress, decompress: (b) => fzstd(b) },
  };
  const dir = process.env.ZSTD_ALT_DIR;
  // the WebAssembly decoder alone: what a page whose frame does not cap itself goes through
  out['zstddec WebAssembly into the known size'] = { compress, decompress: (b, size) => wasmDecode(b, size) };
  if (!dir) return out;
  const load = async (name: string, file: string): Promise<Record<string, unknown> | undefined> => {
    try {
      return (await import(join(dir, name, file))) as Record<string, unknown>;
    } catch {
      process.stderr.write(`zstd bench: ${name} not found in ${dir}\n`);
      return undefined;
    }
  };
  const napi = await load('zstd-napi', 'dist/index.js');
  if (napi)
    out['zstd-napi (previous, needs a compiler)'] = {
      compress,
      decompress: (b) => (napi.decompress as (b: Buffer) => Buffer)(b),
    };
  const boku = await load('@bokuweb/zstd-wasm', 'dist/common/index.node.js');
  if (boku) {
    await (boku.init as () => Promise<void>)();
    out['@bokuweb/zstd-wasm (alternative)'] = {
      compress,
      decompress: (b) => (boku.decompress as (b: Buffer) => Uint8Array)(b),
    };
  }
  const mongo = await load('@mongodb-js/zstd', 'index.js');
  if (mongo)
    out['@mongodb-js/zstd async only (alternative)'] = {
      compress,
      decompress: (b) => (mongo.decompress as (b: Buffer) => Promise<Buffer>)(b),
    };
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const data = arrowBytes(Number(process.env.ZSTD_BENCH_MB ?? 50));
  const pieces: Buffer[] = [];
  for (let o = 0; o < data.length; o += 1 << 20) pieces.push(data.subarray(o, Math.min(data.length, o + (1 << 20))));
  const expected = crc32(data);
  const cases: Record<
    string,
    {
      compress: (b: Buffer) => Buffer | Promise<Buffer>;
      decompress: (b: Buffer, size: number) => Uint8Array | Promise<Uint8Array>;
    }
  > = {
    'gzip -6 (baseline)': { compress: (b) => gzipSync(b), decompress: (b) => gunzipSync(b) },
    'zstd sync, size unknown (Arrow codec)': {
      compress: (b) => zstdCompressSync(b),
      decompress: (b) => zstdDecompressSync(b),
    },
    'zstd thread pool, sync decode capped at the known size (Parquet pages)': {
      compress: (b) => zstdCompress(b),
      decompress: (b, size) => zstdDecompressSync(b, size),
    },
    ...(await alternatives()),
  };
  const times: Record<string, { c: number[]; d: number[]; ratio: number }> = {};
  const names = Object.keys(cases);
  for (let r = 0; r < BENCH_RUNS; r++) {
    const packed = new Map<string, Buffer[]>();
    for (const name of names) {
      const started = performance.now();
      const out: Buffer[] = [];
      for (const piece of pieces) out.push(await cases[name]!.compress(piece));
      const t = (times[name] ??= { c: [], d: [], ratio: 0 });
      t.c.push(performance.now() - started);
      t.ratio = data.length / out.reduce((n, p) => n + p.length, 0);
      packed.set(name, out);
    }
    // decompression interleaved piece by piece, so a busy machine slows every decoder alike
    const spent = new Map<string, number>(names.map((n) => [n, 0]));
    const unpacked = new Map<string, Uint8Array[]>(names.map((n) => [n, []]));
    for (let i = 0; i < pieces.length; i++) {
      for (const name of names) {
        const started = performance.now();
        const out = await cases[name]!.decompress(packed.get(name)![i]!, pieces[i]!.length);
        spent.set(name, spent.get(name)! + performance.now() - started);
        unpacked.get(name)!.push(out);
      }
    }
    for (const name of names) {
      const back = Buffer.concat(unpacked.get(name)!);
      if (back.length !== data.length || crc32(back) !== expected)
        throw new Error(`${name}: the round trip changed the bytes`);
      times[name]!.d.push(spent.get(name)!);
    }
  }
  const mb = data.length / 1e6;
  const base = times['gzip -6 (baseline)']!;
  const rows: BenchRow[] = [];
  for (const [name, t] of Object.entries(times)) {
    rows.push({
      case: `${name} compress`,
      mbPerSec: mb / (median(t.c) / 1000),
      ratio: median(base.c) / median(t.c),
      note: `size ratio ${t.ratio.toFixed(2)}; ${mb.toFixed(0)} MB Arrow IPC in 1 MB pieces`,
    });
    rows.push({
      case: `${name} decompress`,
      mbPerSec: mb / (median(t.d) / 1000),
      ratio: median(base.d) / median(t.d),
      note: 'ratio: speed against gzip',
    });
  }
  return rows;
}
