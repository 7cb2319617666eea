/**
 * A data page whose values are in an encoding Parquet does not define for their type is refused,
 * naming the file and column: parquetjs-lite writes `encoding: 'RLE'` INT32 pages (the bit width
 * is not in the file), which were read as dictionary indices without a dictionary: 1, 2, 3 came
 * back as true, false, false as rows and 1, 0, 0 as Arrow, without an error. DuckDB refuses them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline, fromParquet, collect, ErrorCodes } from '../../../../../index.ts';
import { tempDir } from '../../../../helpers.ts';

const require = createRequire(import.meta.url);
const parquetjs = require('parquetjs-lite') as {
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      path: string,
      options?: Record<string, unknown>,
    ): Promise<{ appendRow(row: object): Promise<void>; close(): Promise<void> }>;
  };
};

const dir = tempDir();

for (const v2 of [false, true])
  for (const optional of [false, true]) {
    const what = `${v2 ? 'DATA_PAGE_V2' : 'DATA_PAGE'}, ${optional ? 'OPTIONAL' : 'REQUIRED'}`;
    test(`an RLE-encoded INT32 page (parquetjs-lite, ${what}) is refused with the file and column, as rows and as Arrow`, async () => {
      const file = join(dir, `rle-int32-${v2}-${optional}.parquet`);
      const schema = new parquetjs.ParquetSchema({ n: { type: 'INT32', encoding: 'RLE', typeLength: 8, optional } });
      const writer = await parquetjs.ParquetWriter.openFile(schema, file, { useDataPageV2: v2 });
      for (const n of [5, 2, 200, 7]) await writer.appendRow({ n });
      await writer.close();
      for (const output of ['rows', 'arrow'] as const) {
        await assert.rejects(pipeline(fromParquet(file, { output }), collect()), (error: Error & { code?: string }) => {
          assert.equal(error.code, ErrorCodes.FORMAT);
          assert.match(error.message, /column `n`/);
          assert.match(error.message, /INT32 values in RLE encoding/);
          assert.ok(error.message.includes(file), error.message);
          return true;
        });
      }
    });
  }
