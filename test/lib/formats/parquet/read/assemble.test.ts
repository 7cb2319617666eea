/**
 * Batch-by-batch assembly of nested columns (read/nested.ts over read/assemble.ts) on pages
 * built by hand: rows that continue on the next page (DataPage V1 allows it; the writers the
 * differential tests use never do it) come out whole at every batch size, and levels that
 * contradict the schema or each other are a FormatError naming the column, never a wrong row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetSchema } from 'hyparquet';
import type { PageHeader, SchemaElement } from 'hyparquet';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import { Bytes } from '../../../../../lib/formats/parquet/encode/bytes.ts';
import { encodeHybrid } from '../../../../../lib/formats/parquet/encode/rle.ts';
import { nestedCursor } from '../../../../../lib/formats/parquet/read/nested.ts';
import type { RawPage } from '../../../../../lib/formats/parquet/read/pages.ts';

/** One entry of a leaf: repetition level, definition level, value when defined at the maximum. */
type Entry = [rep: number, def: number, value?: number];

/** An uncompressed DATA_PAGE (v1) of INT32 values, levels each behind a 4-byte length. */
function page(entries: Entry[], maxRep: number, maxDef: number): RawPage {
  const out = new Bytes(64);
  const levels = (values: number[], max: number): void => {
    if (max === 0) return;
    const at = out.length;
    out.u32(0);
    encodeHybrid(out, values, 0, values.length, 32 - Math.clz32(max));
    out.view.setUint32(at, out.length - at - 4, true);
  };
  levels(
    entries.map((e) => e[0]),
    maxRep,
  );
  levels(
    entries.map((e) => e[1]),
    maxDef,
  );
  for (const e of entries) if (e[1] === maxDef) out.u32(e[2]!);
  return pageOf(out.result(), entries.length);
}

function pageOf(bytes: Uint8Array, count: number): RawPage {
  const header = {
    type: 'DATA_PAGE',
    uncompressed_page_size: bytes.length,
    compressed_page_size: bytes.length,
    data_page_header: {
      num_values: count,
      encoding: 'PLAIN',
      definition_level_encoding: 'RLE',
      repetition_level_encoding: 'RLE',
    },
  } as PageHeader;
  return { header, bytes, offset: 0 };
}

const LIST_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 1 },
  { name: 'l', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', type: 'INT32' },
];

const STRUCT_LIST_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 1 },
  { name: 'ls', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'x', repetition_type: 'OPTIONAL', type: 'INT32' },
  { name: 'y', repetition_type: 'OPTIONAL', type: 'INT32' },
];

/** A cursor over the top-level column of `schema` whose leaves hold `pages` (by dotted path). */
function cursor(schema: SchemaElement[], pages: Record<string, RawPage[]>, rows: number, skip = 0) {
  const tree = parquetSchema({ schema } as Parameters<typeof parquetSchema>[0]);
  const leaves = Object.entries(pages).map(([path, list]) => {
    const schemaPath = getTreePath(tree, path.split('.'));
    const queue = [...list];
    return {
      path,
      pages: { next: async () => queue.shift() },
      decoder: {
        pathInSchema: path.split('.'),
        element: schemaPath[schemaPath.length - 1]!.element,
        schemaPath,
        type: 'INT32' as const,
        codec: 'UNCOMPRESSED' as const,
        parsers: DEFAULT_PARSERS,
        compressors: {},
        utf8: false,
      },
    };
  });
  return nestedCursor(tree.children[0]!, leaves, 'row group 0, column `x`', 'test.parquet', skip, rows, true, 1e6);
}

// rows [[1, 2, 3], null, [], [null, 4], [5]]; the first and fourth rows continue on the next page
const LIST_PAGES = (): RawPage[] => [
  page(
    [
      [0, 3, 1],
      [1, 3, 2],
    ],
    1,
    3,
  ),
  page(
    [
      [1, 3, 3],
      [0, 0],
      [0, 1],
      [0, 2],
    ],
    1,
    3,
  ),
  page(
    [
      [1, 3, 4],
      [0, 3, 5],
    ],
    1,
    3,
  ),
];
const LIST_ROWS = [[1, 2, 3], null, [], [null, 4], [5]];

test('rows that continue on the next page come out whole, at every batch size and resume point', async () => {
  for (const sizes of [[5], [1, 1, 1, 1, 1], [2, 3], [4, 1], [1, 4]]) {
    const c = cursor(LIST_SCHEMA, { 'l.list.element': LIST_PAGES() }, 5);
    const got: unknown[] = [];
    for (const n of sizes) got.push(...(await c.take(n)));
    assert.deepEqual(got, LIST_ROWS, `batches ${sizes.join(', ')}`);
  }
  for (let skip = 1; skip < 5; skip++) {
    const c = cursor(LIST_SCHEMA, { 'l.list.element': LIST_PAGES() }, 5, skip);
    assert.deepEqual(await c.take(5 - skip), LIST_ROWS.slice(skip), `resume at ${skip}`);
  }
});

test('a chunk holding more or fewer rows than its row group is a FormatError', async () => {
  await assert.rejects(cursor(LIST_SCHEMA, { 'l.list.element': LIST_PAGES() }, 4).take(4), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /holds more values than its row group's rows/,
  });
  await assert.rejects(cursor(LIST_SCHEMA, { 'l.list.element': LIST_PAGES() }, 6).take(6), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /holds fewer values than its row group's rows/,
  });
});

test('a list of structs is assembled from both leaves; leaves that disagree are a FormatError', async () => {
  // rows [[{x: 1, y: 2}, {x: 3, y: null}, null], []]
  const x = page(
    [
      [0, 4, 1],
      [1, 4, 3],
      [1, 2],
      [0, 1],
    ],
    1,
    4,
  );
  const y = page(
    [
      [0, 4, 2],
      [1, 3],
      [1, 2],
      [0, 1],
    ],
    1,
    4,
  );
  const ok = cursor(STRUCT_LIST_SCHEMA, { 'ls.list.element.x': [x], 'ls.list.element.y': [y] }, 2);
  assert.deepEqual(await ok.take(2), [[{ x: 1, y: 2 }, { x: 3, y: null }, null], []]);
  // y says the first row holds one element where x says three
  const short = page(
    [
      [0, 4, 2],
      [0, 1],
    ],
    1,
    4,
  );
  const bad = cursor(STRUCT_LIST_SCHEMA, { 'ls.list.element.x': [x], 'ls.list.element.y': [short] }, 2);
  await assert.rejects(bad.take(2), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /column `x`.*disagree/,
  });
});

test('levels above their maximum, or a chunk starting inside a row, are a FormatError', async () => {
  // one entry: repetition levels (4-byte length, an RLE run of one 0), definition levels (an RLE run of one 4, above the maximum 3), the value 1
  const tooHigh = pageOf(Uint8Array.of(2, 0, 0, 0, 2, 0, 2, 0, 0, 0, 2, 4, 1, 0, 0, 0), 1);
  await assert.rejects(cursor(LIST_SCHEMA, { 'l.list.element': [tooHigh] }, 1).take(1), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /Cannot decode Parquet page in row group 0, column `x`: definition level 4 is above its maximum 3/,
  });
  const inside = page(
    [
      [1, 3, 1],
      [0, 3, 2],
    ],
    1,
    3,
  );
  await assert.rejects(cursor(LIST_SCHEMA, { 'l.list.element': [inside] }, 1).take(1), {
    code: 'ERR_SPILLWAY_FORMAT',
    message: /starts inside a row/,
  });
});
