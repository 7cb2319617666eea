/**
 * Regressions of issue 19 (declared sizes trusted before allocating), Parquet side: a page header
 * claiming 2 GB uncompressed on a small file, and a footer bit flip that leaves a column chunk
 * without its offset and size (the page loop spun on the CPU for minutes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import {
  ErrorCodes,
  SpillwayError,
  fromIterable,
  fromParquet,
  mapBatch,
  pipeline,
  toParquet,
} from '../../../../../index.ts';
import { checkPageHeader, MAX_PAGE_BYTES } from '../../../../../lib/formats/parquet/read/page-bounds.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir();

function varint(value: number): number[] {
  let v = BigInt(value) << 1n; // zigzag of a non-negative value
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function skipVarint(bytes: Uint8Array, at: number): number {
  while ((bytes[at]! & 0x80) !== 0) at++;
  return at + 1;
}

function indexOf(bytes: Uint8Array, pattern: number[], from: number): number {
  outer: for (let i = from; i + pattern.length <= bytes.length; i++) {
    for (let k = 0; k < pattern.length; k++) if (bytes[i + k] !== pattern[k]) continue outer;
    return i;
  }
  return -1;
}

async function writeSmall(name: string, columns: 1 | 3): Promise<string> {
  const path = join(dir, name);
  const rows = Array.from({ length: 300 }, (_, i) =>
    columns === 1 ? { id: i } : { id: i, name: `n${i}`, price: i / 4 },
  );
  await pipeline(fromIterable(rows), toParquet(path, { compression: 'snappy' }), { governor: false });
  return path;
}

/** Reads a file through fromParquet; resolves with the error it fails with, and the peak ArrayBuffer bytes seen meanwhile. */
async function readFailure(path: string, output: 'rows' | 'arrow'): Promise<{ error: unknown; peakBuffers: number }> {
  let peakBuffers = 0;
  const sample = (): void => {
    peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers);
  };
  const sampler = setInterval(sample, 5);
  try {
    await pipeline(
      fromParquet(path, { output }),
      mapBatch(() => []),
      { governor: false },
    );
    return { error: undefined, peakBuffers };
  } catch (error) {
    sample();
    return { error, peakBuffers };
  } finally {
    clearInterval(sampler);
  }
}

test('a page header claiming 2 GB uncompressed is refused at that page, before anything is allocated', {
  timeout: 120_000,
}, async () => {
  const original = await writeSmall('claims-2gb-src.parquet', 1);
  const bytes = new Uint8Array(readFileSync(original));
  const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
  const chunk = meta.row_groups[0]!.columns[0]!.meta_data!;
  const start = Number(chunk.dictionary_page_offset || chunk.data_page_offset);
  // page header: field 1 (type) then field 2 (uncompressed_page_size), both i32 varints
  assert.equal(bytes[start], 0x15);
  const field2 = skipVarint(bytes, start + 1);
  assert.equal(bytes[field2], 0x15);
  const sizeAt = field2 + 1;
  const sizeEnd = skipVarint(bytes, sizeAt);
  const absurd = varint(2 ** 31 - 1);
  const grow = absurd.length - (sizeEnd - sizeAt);
  // the footer's total_compressed_size (field 7, after field 6 total_uncompressed_size) grows with the header
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
  const footerStart = bytes.length - 8 - footerLength;
  const total = Number(chunk.total_compressed_size);
  const pattern = [0x16, ...varint(Number(chunk.total_uncompressed_size)), 0x16, ...varint(total)];
  const at = indexOf(bytes, pattern, footerStart);
  assert.ok(at > 0, 'found the chunk sizes in the footer');
  const totalAt = at + pattern.length - varint(total).length;
  assert.equal(varint(total + grow).length, varint(total).length, 'the new size keeps its length');
  const out = new Uint8Array(bytes.length + grow);
  out.set(bytes.subarray(0, sizeAt));
  out.set(absurd, sizeAt);
  out.set(bytes.subarray(sizeEnd), sizeAt + absurd.length);
  out.set(varint(total + grow), totalAt + grow);
  const path = join(dir, 'claims-2gb.parquet');
  writeFileSync(path, out);
  assert.equal(
    Number(parquetMetadata(out.buffer as ArrayBuffer).row_groups[0]!.columns[0]!.meta_data!.total_compressed_size),
    total + grow,
  );

  for (const output of ['rows', 'arrow'] as const) {
    const { error, peakBuffers } = await readFailure(path, output);
    assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
    assert.equal(error.code, ErrorCodes.FORMAT);
    assert.equal(error.context.file, path);
    assert.equal(error.context.byteOffset, start, 'the error names the page with the absurd header');
    assert.ok(peakBuffers < 256 * 1024 * 1024, `ArrayBuffers peaked at ${Math.round(peakBuffers / 1048576)} MB`);
  }
});

test("a footer bit flip that drops a column chunk's offset and size fails at once instead of spinning", {
  timeout: 120_000,
}, async () => {
  const original = await writeSmall('flip-src.parquet', 3);
  const bytes = new Uint8Array(readFileSync(original));
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
  const footerStart = bytes.length - 8 - footerLength;
  let flipped: Uint8Array | undefined;
  search: for (let i = footerStart; i < bytes.length - 8; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const candidate = Uint8Array.from(bytes);
      candidate[i]! ^= 1 << bit;
      try {
        const meta = parquetMetadata(candidate.buffer as ArrayBuffer);
        const broken = meta.row_groups.some((g) =>
          g.columns.some((c) => {
            const m = c.meta_data;
            // the rest of the chunk intact (codec, column name): only the offsets and size are gone
            const intact =
              m !== undefined &&
              m.codec === 'SNAPPY' &&
              m.path_in_schema.length === 1 &&
              ['id', 'name', 'price'].includes(m.path_in_schema[0]!);
            return (
              intact &&
              m.data_page_offset === undefined &&
              m.dictionary_page_offset === undefined &&
              m.total_compressed_size === undefined
            );
          }),
        );
        if (broken) {
          flipped = candidate;
          break search;
        }
      } catch {
        // the footer no longer parses: hyparquet's own error, not this case
      }
    }
  }
  assert.ok(flipped, "a single bit flip drops a chunk's offsets and size");
  const path = join(dir, 'flip.parquet');
  writeFileSync(path, flipped);
  for (const output of ['rows', 'arrow'] as const) {
    const { error } = await readFailure(path, output);
    assert.ok(error instanceof SpillwayError, `a SpillwayError, got ${String(error)}`);
    assert.ok(error.code === ErrorCodes.FORMAT || error.code === ErrorCodes.UNSUPPORTED, error.message);
    assert.equal(error.context.file, path);
  }
});

test("checkPageHeader: sizes past the codec's expansion, the ceiling or the chunk are refused; real pages pass", () => {
  const where = { file: 'x.parquet', byteOffset: 4 };
  const page = (uncompressed: number, compressed: number, values = 10): Parameters<typeof checkPageHeader>[0] => ({
    type: 'DATA_PAGE',
    uncompressed_page_size: uncompressed,
    compressed_page_size: compressed,
    data_page_header: {
      num_values: values,
      encoding: 'PLAIN',
      definition_level_encoding: 'RLE',
      repetition_level_encoding: 'RLE',
    },
  });
  const refused = (fn: () => void): void => {
    assert.throws(
      fn,
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.FORMAT && e.context.file === 'x.parquet',
    );
  };
  checkPageHeader(page(1 << 20, 300_000), { codec: 'SNAPPY', chunkValues: 10 }, 'c', where);
  checkPageHeader(page(1 << 20, 200), { codec: 'ZSTD', chunkValues: 10 }, 'c', where);
  checkPageHeader(page(100, 100), { codec: 'UNCOMPRESSED' }, 'c', where);
  refused(() => checkPageHeader(page(2 ** 31 - 1, 1700), { codec: 'SNAPPY' }, 'c', where));
  refused(() => checkPageHeader(page(MAX_PAGE_BYTES + 1, MAX_PAGE_BYTES), { codec: 'GZIP' }, 'c', where));
  refused(() => checkPageHeader(page(101, 100), { codec: 'UNCOMPRESSED' }, 'c', where));
  refused(() => checkPageHeader(page(-1, 100), { codec: 'SNAPPY' }, 'c', where));
  refused(() => checkPageHeader(page(100, 100, 11), { codec: 'SNAPPY', chunkValues: 10 }, 'c', where));
  refused(() => checkPageHeader(page(100, 100, 2 ** 31), { codec: 'SNAPPY' }, 'c', where));
});
