import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, createReadStream } from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { openArrowFile, readArrowStream } from '../../../../lib/formats/arrow/ipc-reader.ts';
import { recordBatchToRows } from '../../../../lib/formats/arrow/convert.ts';
import { SpillwayError, ErrorCodes } from '../../../../lib/core/errors.ts';
import type { TruthFile as Truth } from '../parquet/corpusNormalize.ts';
import { KNOWN_REFUSALS } from './known-refusals.ts';
import { CORPUS, corpusSkip } from '../../../helpers.ts';

const corpus = CORPUS;
const skip = corpusSkip;

/** Normalises a converted value to truth.json's JSON conventions. */
function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number')
    return Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : value;
  if (value instanceof Uint8Array) return `base64:${Buffer.from(value).toString('base64')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  return value;
}

/** Deep equality where numbers also match when they are the same float32 (integration JSON writes short decimals). */
function same(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'number' && typeof expected === 'number')
    return Object.is(actual, expected) || actual === expected || Math.fround(actual) === Math.fround(expected);
  if (Array.isArray(actual) && Array.isArray(expected))
    return actual.length === expected.length && actual.every((v, i) => same(v, expected[i]));
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const ka = Object.keys(actual);
    const kb = Object.keys(expected);
    return (
      ka.length === kb.length &&
      ka.every((k) => same((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]))
    );
  }
  return actual === expected;
}

const truths: Truth[] = skip
  ? []
  : (JSON.parse(readFileSync(path.join(corpus, 'truth.json'), 'utf8')) as { files: Truth[] }).files.filter((f) =>
      f.path.startsWith('arrow/'),
    );
const outcome = { read: 0, rejected: 0, failed: [] as string[] };

/**
 * Files whose repeated column names the reader renames, by DuckDB's rule as for Parquet
 * (lib/formats/arrow/repeated-names.ts): the names given. truth.json has apache-arrow's view,
 * which keeps the repeats (and, merging the fields by name, calls the Int8 `ints` Int32);
 * test/lib/formats/arrow/duplicate-names.test.ts checks the types and values against the file's
 * integration JSON. Their rows are compared by position, as truth.json gives them.
 */
const DUP = ['ints', 'ints_1', 'struct'];
const RENAMED: Record<string, string[]> = {
  'arrow/cpp-21.0.0/generated_duplicate_fieldnames.stream': DUP,
  'arrow/cpp-21.0.0/generated_duplicate_fieldnames.arrow_file': DUP,
};

async function readAll(batches: AsyncIterable<RecordBatch>, byPosition = false) {
  let rows = 0;
  const head: unknown[] = [];
  let names: string[] | undefined;
  for await (const batch of batches) {
    names ??= batch.schema.fields.map((f) => f.name);
    rows += batch.numRows;
    if (head.length < 2) {
      const converted = recordBatchToRows(batch, {
        int64: 'bigint',
        timestamps: 'string',
        shape: byPosition || new Set(names).size !== names.length ? 'array' : undefined,
      });
      head.push(...converted.slice(0, 2 - head.length).map(normalise));
    }
  }
  return { rows, head, names };
}

for (const truth of truths) {
  const file = path.join(corpus, truth.path);
  for (const via of ['openArrowFile', 'readArrowStream'] as const) {
    test(`${via} ${truth.path}`, { skip }, async () => {
      try {
        let result;
        if (via === 'openArrowFile') {
          const handle = await openArrowFile(file);
          try {
            result = await readAll(handle.batches(), RENAMED[truth.path] !== undefined);
            assert.equal(handle.numRows, result.rows, 'numRows from headers');
            result.names ??= handle.schema.fields.map((f) => f.name);
          } finally {
            await handle.close();
          }
        } else {
          result = await readAll(readArrowStream(createReadStream(file), { file }), RENAMED[truth.path] !== undefined);
        }
        if (KNOWN_REFUSALS[truth.path]) {
          outcome.failed.push(`${via} ${truth.path}: read a file listed as refused (update KNOWN_REFUSALS)`);
          assert.fail(`${truth.path} now reads: remove it from KNOWN_REFUSALS`);
        }
        if (truth.expect === 'reject') {
          outcome.failed.push(`${via} ${truth.path}: accepted a malformed file`);
          assert.fail(`accepted malformed ${truth.path}`);
        }
        assert.equal(result.rows, truth.rows);
        if (result.names) assert.deepEqual(result.names, RENAMED[truth.path] ?? truth.columns?.map((c) => c.name));
        assert.ok(
          same(result.head, truth.head),
          `head differs:\n${JSON.stringify(result.head).slice(0, 600)}\n${JSON.stringify(truth.head).slice(0, 600)}`,
        );
        outcome.read++;
      } catch (error) {
        if (
          error instanceof SpillwayError &&
          (error.code === ErrorCodes.FORMAT || error.code === ErrorCodes.UNSUPPORTED)
        ) {
          assert.ok(error.message.includes(file), `error names the file: ${error.message}`);
          const known = KNOWN_REFUSALS[truth.path];
          if (truth.expect === 'read' && !known?.test(error.message)) {
            outcome.failed.push(`${via} ${truth.path}: ${error.message}`);
            throw error;
          }
          outcome.rejected++;
          return;
        }
        if (!(error instanceof assert.AssertionError)) outcome.failed.push(`${via} ${truth.path}: ${String(error)}`);
        throw error;
      }
    });
  }
}

test('corpus summary: every file was read or refused as truth.json and KNOWN_REFUSALS say', { skip }, () => {
  console.log(
    `arrow corpus: ${outcome.read} read correctly, ${outcome.rejected} refused with a clear error, ${outcome.failed.length} failed`,
  );
  assert.deepEqual(outcome.failed, []);
  assert.equal(outcome.read + outcome.rejected, truths.length * 2, 'every file was tried both ways');
  const expectedRefusals = truths.filter((t) => t.expect === 'reject' || KNOWN_REFUSALS[t.path]).length * 2;
  assert.equal(outcome.rejected, expectedRefusals, 'refusals are exactly the malformed files and the listed ones');
});
