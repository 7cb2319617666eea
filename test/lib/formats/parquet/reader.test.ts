import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { openParquet } from '../../../../lib/formats/parquet/reader.ts';
import { SpillwayError } from '../../../../lib/core/errors.ts';
import { normalize } from './corpusNormalize.ts';
import type { TruthFile } from './corpusNormalize.ts';
import { CORPUS, corpusSkip } from '../../../helpers.ts';

const corpus = CORPUS;
const skip = corpusSkip;
const truth: TruthFile[] = skip
  ? []
  : (JSON.parse(readFileSync(path.join(corpus, 'truth.json'), 'utf8')) as { files: TruthFile[] }).files.filter(
      (f) => f.format === 'parquet',
    );

// Known representation differences, kept explicit so any other difference fails.
const KNOWN_DIFFS: Record<string, string> = {
  // hyparquet assembles a MAP whose key_value group has no value field as {key_value: {...}}
  'parquet/map_no_value.parquet': 'my_map_no_v',
};
// Readable per truth.json, but no JS reader decodes it: must fail with a clear error.
const MUST_ERROR = new Set(['parquet/ARROW-17100.parquet']);

async function readAll(file: string) {
  const reader = await openParquet(path.join(corpus, file), { int64: 'bigint', batchSize: 7 });
  try {
    const head: Record<string, unknown>[] = [];
    let rows = 0;
    for await (const batch of reader.batches()) {
      assert.ok(batch.rows.length <= 7);
      for (const row of batch.rows) {
        if (head.length < 2) head.push(row);
        rows++;
      }
    }
    return { reader, head, rows };
  } finally {
    await reader.close();
  }
}

for (const f of truth) {
  test(`corpus ${f.path}`, { skip }, async () => {
    if (f.expect === 'reject' || MUST_ERROR.has(f.path)) {
      await assert.rejects(readAll(f.path), (error: unknown) => {
        assert.ok(error instanceof SpillwayError, String(error));
        assert.ok(['ERR_SPILLWAY_FORMAT', 'ERR_SPILLWAY_UNSUPPORTED'].includes(error.code), error.code);
        assert.ok(error.message.includes(path.basename(f.path)), error.message);
        return true;
      });
      return;
    }
    const { reader, head, rows } = await readAll(f.path);
    assert.equal(rows, f.rows);
    assert.deepEqual(
      reader.columns.map((c) => c.name),
      f.columns!.map((c) => c.name),
    );
    for (const [i, expected] of (f.head ?? []).entries()) {
      const got: Record<string, unknown> = {};
      for (const c of reader.columns)
        got[c.name] = normalize(head[i]![c.name], c, f.columns!.find((t) => t.name === c.name)?.type);
      for (const key of Object.keys(expected as object)) {
        if (KNOWN_DIFFS[f.path] === key) continue;
        // maps are {key, value} entries in file order on both sides
        const a = got[key];
        const b = (expected as Record<string, unknown>)[key];
        assert.ok(isDeepStrictEqual(a, b), `${key} row ${i}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
      }
    }
  });
}

test('footer row count, projection and int64 modes', { skip }, async () => {
  const file = path.join(corpus, 'parquet/alltypes_plain.parquet');
  const reader = await openParquet(file, { columns: ['bigint_col', 'id'] });
  try {
    assert.equal(reader.numRows, 8);
    assert.deepEqual(
      reader.columns.map((c) => [c.name, c.type]),
      [
        ['bigint_col', 'int64'],
        ['id', 'int32'],
      ],
    );
    const rows = [];
    for await (const b of reader.batches()) rows.push(...b.rows);
    assert.deepEqual(rows[1], { bigint_col: 10, id: 5 });
  } finally {
    await reader.close();
  }
  const big = await openParquet(path.join(corpus, 'parquet/alltypes-java.parquet'), {
    columns: ['uint64'],
    int64: 'bigint',
  });
  try {
    for await (const b of big.batches()) assert.equal(b.rows[1]!.uint64, 1n);
  } finally {
    await big.close();
  }
});

test('options are validated synchronously and unknown columns are named', { skip }, async () => {
  assert.throws(() => openParquet('x.parquet', { int64: 'string' as never }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
  assert.throws(() => openParquet('x.parquet', { batchSize: 0 }), /options\.batchSize/);
  await assert.rejects(
    openParquet(path.join(corpus, 'parquet/binary.parquet'), { columns: ['nope'] }),
    /options\.columns\[0\]/,
  );
  await assert.rejects(openParquet(path.join(corpus, 'missing.parquet')), { code: 'ERR_SPILLWAY_IO' });
});
