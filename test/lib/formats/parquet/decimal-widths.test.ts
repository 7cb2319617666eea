/**
 * Arrow Decimal32 and Decimal64 columns (what Arrow C++ 21 writes for small precisions) go to
 * Parquet DECIMAL like Decimal128 and Decimal256: the corpus's generated_decimal32/64 files (and
 * the 128- and 256-bit ones beside them) through toParquet, read back by DuckDB, hold exactly the
 * values of the Arrow integration JSON that describes each file. Before, toParquet refused them
 * ("has Arrow type Decimal[3e+2], which the Parquet writer cannot write"). DuckDB reads a DECIMAL
 * of more than 38 digits as a DOUBLE, correctly only when its bytes are a multiple of 8
 * (duckdb/duckdb#25058): the 256-bit file checks that the writer pads such values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fromArrow, pipeline, toParquet } from '../../../../index.ts';
import { CORPUS, corpusSkip, tempDir } from '../../../helpers.ts';
import { duckRows, sqlString } from './duckdb.ts';

interface JsonColumn {
  name: string;
  VALIDITY: number[];
  DATA: string[];
}
interface JsonFile {
  schema: { fields: { name: string; type: { name: string; precision: number; scale: number; bitWidth: number } }[] };
  batches: { count: number; columns: JsonColumn[] }[];
}

/** An unscaled integer as DuckDB prints a DECIMAL of `scale`: "-64.05", "0.07", "12". */
function decimalText(unscaled: string, scale: number): string {
  const negative = unscaled.startsWith('-');
  const digits = (negative ? unscaled.slice(1) : unscaled).padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

for (const name of ['generated_decimal32', 'generated_decimal64', 'generated_decimal', 'generated_decimal256']) {
  test(`${name}: toParquet writes DECIMAL columns DuckDB reads as the integration JSON says`, {
    skip: corpusSkip,
  }, async () => {
    const dir = path.join(CORPUS!, 'arrow', 'cpp-21.0.0');
    const truth = JSON.parse(gunzipSync(readFileSync(path.join(dir, `${name}.json.gz`))).toString()) as JsonFile;
    const out = path.join(tempDir(), `${name}.parquet`);
    await pipeline(fromArrow(path.join(dir, `${name}.arrow_file`)), toParquet(out));
    const fields = truth.schema.fields;
    const expected: (string | null)[][] = [];
    for (const batch of truth.batches) {
      for (let i = 0; i < batch.count; i++)
        expected.push(
          batch.columns.map((c, f) => (c.VALIDITY[i] ? decimalText(c.DATA[i]!, fields[f]!.type.scale) : null)),
        );
    }
    const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(out)})`);
    assert.deepEqual(
      types.rows.map((r) => r.column_type),
      fields.map((f) => (f.type.precision > 38 ? 'DOUBLE' : `DECIMAL(${f.type.precision},${f.type.scale})`)),
    );
    // DuckDB reads a DECIMAL above 38 digits as a DOUBLE: compare those as numbers
    const got = (await duckRows(`SELECT * FROM read_parquet(${sqlString(out)})`)).rows.map((r) =>
      fields.map((f) => r[f.name] as string | number | null),
    );
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) {
      for (let f = 0; f < fields.length; f++) {
        const g = got[i]![f]!;
        const e = expected[i]![f]!;
        // DuckDB sums 8-byte chunks as doubles: the last digit may differ from a correct rounding
        if (typeof g === 'number' && e !== null)
          assert.ok(
            Math.abs(g - Number(e)) <= Math.abs(Number(e)) * 1e-14,
            `row ${i}, ${fields[f]!.name}: ${g} for ${e}`,
          );
        else assert.equal(g, e, `row ${i}, ${fields[f]!.name}`);
      }
    }
  });
}
