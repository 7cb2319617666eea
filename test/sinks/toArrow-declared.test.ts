import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dictionary, Field, Float64, Int8, Int16, Int32, LargeUtf8, Schema, Utf8, tableFromIPC } from 'apache-arrow';
import { pipeline, fromIterable, fromCsv, fromJsonl, collect, ErrorCodes, type SpillwayError } from '../../index.ts';
import { fromArrow } from '../../sources/fromArrow.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { registerArrowCodecs } from '../../lib/formats/arrow/codecs.ts';
import { tempDir } from '../helpers.ts';

const schema = new Schema([
  new Field('id', new Int16(), true),
  new Field('name', new LargeUtf8(), true),
  new Field('kind', new Dictionary(new Utf8(), new Int8()), true),
  new Field('price', new Float64(), true),
]);

/** Rows back through apache-arrow's own reader (not fromArrow), with the file's schema. */
function readBack(file: string): { types: string[]; rows: Record<string, unknown>[] } {
  registerArrowCodecs();
  const table = tableFromIPC(readFileSync(file));
  const rows = table.toArray().map((r) => ({ ...r.toJSON() }));
  return { types: table.schema.fields.map((f) => `${f.name}:${String(f.type)}`), rows };
}

const expected = Array.from({ length: 10 }, (_, i) => ({
  id: i - 3,
  name: i === 4 ? null : `n${i}`,
  kind: ['buy', 'sell', null][i % 3]!,
  price: i === 5 ? null : i * 2,
}));

test('toArrow with a declared schema keeps values its types hold: 1 into Int16, text into LargeUtf8 and a Dictionary, across batches', async () => {
  const dir = tempDir();
  const csv = join(dir, 'in.csv');
  writeFileSync(
    csv,
    `id,name,kind,price\n${expected.map((r) => [r.id, r.name ?? '', r.kind ?? '', r.price ?? ''].join(',')).join('\n')}\n`,
  );
  const jsonl = join(dir, 'in.jsonl');
  writeFileSync(jsonl, `${expected.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const inputs = {
    rows: () => fromIterable(expected, { batchSize: 3 }),
    csvArrow: () => fromCsv(csv, { cast: true, output: 'arrow', batchSize: 3 }),
    jsonl: () => fromJsonl(jsonl, { batchSize: 3 }),
  };
  for (const [name, source] of Object.entries(inputs)) {
    for (const format of ['file', 'stream'] as const) {
      const out = join(dir, `${name}-${format}.arrow`);
      const { output } = await pipeline(source(), toArrow(out, { schema, format }), { governor: false });
      assert.equal(output.rows, 10, `${name} ${format}`);
      const back = readBack(out);
      assert.deepEqual(back.types, ['id:Int16', 'name:LargeUtf8', 'kind:Dictionary<Int8, Utf8>', 'price:Float64']);
      assert.deepEqual(back.rows, expected, `${name} ${format}: apache-arrow reads what was given`);
      const again = await pipeline(fromArrow(out), collect(), { governor: false });
      assert.deepEqual(again.output, expected, `${name} ${format}: fromArrow reads what was given`);
    }
  }
});

test('toArrow with a declared schema refuses a value its type cannot hold, naming column and value, and leaves no file', async () => {
  const dir = tempDir();
  const cases: [Record<string, unknown>[], Schema, RegExp][] = [
    [[{ a: 40000 }], new Schema([new Field('a', new Int16(), true)]), /Column "a" is Int16 .* `40000`/],
    [[{ a: 1.5 }], new Schema([new Field('a', new Int32(), true)]), /Column "a" is Int32 .* `1\.5`/],
    [[{ a: 'x' }], new Schema([new Field('a', new Int32(), true)]), /Column "a" is Int32 .* `"x"`/],
    // a misspelt declared name would write nulls and drop the data
    [[{ price: 1 }], new Schema([new Field('prcie', new Float64(), true)]), /column `price`, which the declared/],
    [
      Array.from({ length: 200 }, (_, i) => ({ k: `v${i}` })),
      new Schema([new Field('k', new Dictionary(new Utf8(), new Int8()), true)]),
      /more distinct values than its Int8 dictionary indices/,
    ],
  ];
  for (const [i, [rows, declared, message]] of cases.entries()) {
    await assert.rejects(
      pipeline(fromIterable(rows, { batchSize: 150 }), toArrow(join(dir, `bad${i}.arrow`), { schema: declared }), {
        governor: false,
      }),
      (e: SpillwayError) => e.code === ErrorCodes.SCHEMA_MISMATCH && message.test(e.message),
    );
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('a declared Dictionary keeps -0 apart from 0 and NaN, and a column the batch lacks is written as nulls', async () => {
  const dir = tempDir();
  const out = join(dir, 'd.arrow');
  const declared = new Schema([
    new Field('x', new Dictionary(new Float64(), new Int16()), true),
    new Field('missing', new Utf8(), true),
  ]);
  await pipeline(fromIterable([{ x: 0 }, { x: -0 }, { x: Number.NaN }, { x: 0 }]), toArrow(out, { schema: declared }), {
    governor: false,
  });
  const back = readBack(out).rows;
  assert.deepEqual(
    back.map((r) => r.x),
    [0, -0, Number.NaN, 0],
  );
  assert.ok(Object.is(back[1]!.x, -0));
  assert.deepEqual(
    back.map((r) => r.missing),
    [null, null, null, null],
  );
});
