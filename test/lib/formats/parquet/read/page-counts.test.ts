/**
 * Issue 19, item 2 (bounds before allocation), page value counts: a data page claiming millions of
 * values in a few bytes must be refused from what its bytes encode, before arrays are sized from
 * the claim, in nested (list) and flat columns, v1 pages, with a FormatError naming the file and
 * column, quickly and in bounded memory. The files are crafted from scratch (one uncompressed
 * page behind a valid footer); each crafted read runs in a child process whose peak RSS is measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SpillwayError, collect, fromParquet, mapBatch, pipeline } from '../../../../../index.ts';
import { pageHeader } from '../../../../../lib/formats/parquet/encode/metadata.ts';
import { ThriftWriter, T } from '../../../../../lib/formats/parquet/encode/thrift.ts';
import { crc32 } from '../../../../../lib/formats/checksum.ts';
import {
  checkDictionaryFits,
  checkPageV1,
  checkValuesFit,
  scanDelta,
  scanHybrid,
} from '../../../../../lib/formats/parquet/read/page-counts.ts';
import { ROOT, nodeScript, tempDir } from '../../../../helpers.ts';

const CHILD = 'SPILLWAY_PAGE_COUNTS_CHILD';

function mb(bytes: number): number {
  return Math.round(bytes / 1048576);
}

/** Child mode: read the file, print the error's code, file and message, the time and the peak RSS. */
async function child(path: string): Promise<void> {
  const started = performance.now();
  let result: Record<string, unknown> = {};
  try {
    await pipeline(
      fromParquet(path, { output: 'rows' }),
      mapBatch(() => []),
      { governor: false },
    );
  } catch (error) {
    const e = error as SpillwayError;
    // (arrays sized from a claim and dropped at the failure are still counted until a GC)
    result = {
      code: e.code,
      file: e.context?.file,
      message: e.message,
      buffersMb: mb(process.memoryUsage().arrayBuffers),
    };
  }
  const ms = Math.round(performance.now() - started);
  const cpu = process.cpuUsage();
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  process.stdout.write(JSON.stringify({ ...result, ms, cpuMs, maxRssMb: mb(process.resourceUsage().maxRSS * 1024) }));
}

const dir = process.env[CHILD] ? '' : tempDir();

/** A ULEB128 varint. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** An RLE run of `count` copies of the one-byte `value`. */
function run(count: number, value: number): number[] {
  return [...uleb(count * 2), value];
}

/** A level stream behind its 4-byte length (DATA_PAGE v1). */
function levels(bytes: number[]): number[] {
  return [bytes.length & 255, (bytes.length >> 8) & 255, 0, 0, ...bytes];
}

function schemaElement(
  w: ThriftWriter,
  e: { name: string; repetition?: number; type?: number; children?: number; converted?: number },
): void {
  w.begin();
  if (e.type !== undefined) w.i32(1, e.type);
  if (e.repetition !== undefined) w.i32(3, e.repetition);
  w.string(4, e.name);
  if (e.children !== undefined) w.i32(5, e.children);
  if (e.converted !== undefined) w.i32(6, e.converted);
  w.end();
}

/**
 * A file of one INT32 column holding one uncompressed DATA_PAGE (v1) of `body`, whose header and
 * footer claim `claim` values (and the row group `rows` rows). `nested`: the column is
 * `ids list<int32>` (levels: repetition 1, definition 3); else an optional `x` (definition 1).
 */
function craft(name: string, nested: boolean, body: number[], claim: number, rows: number): string {
  const page = Uint8Array.from(body);
  const header = pageHeader(0, page.length, page.length, claim, 0, crc32(page));
  const w = new ThriftWriter(512);
  w.begin();
  w.i32(1, 1);
  const schema = nested
    ? [
        { name: 'schema', children: 1 },
        { name: 'ids', repetition: 1, children: 1, converted: 3 },
        { name: 'list', repetition: 2, children: 1 },
        { name: 'element', repetition: 1, type: 1 },
      ]
    : [
        { name: 'schema', children: 1 },
        { name: 'x', repetition: 1, type: 1 },
      ];
  w.list(2, T.STRUCT, schema.length);
  for (const e of schema) schemaElement(w, e);
  w.i64(3, rows);
  w.list(4, T.STRUCT, 1);
  w.begin();
  w.list(1, T.STRUCT, 1);
  w.begin();
  w.i64(2, 4);
  w.struct(3);
  w.i32(1, 1);
  w.list(2, T.I32, 2);
  w.rawI32(0);
  w.rawI32(3);
  const path = nested ? ['ids', 'list', 'element'] : ['x'];
  w.list(3, T.BINARY, path.length);
  for (const p of path) w.rawBinary(new TextEncoder().encode(p));
  w.i32(4, 0);
  w.i64(5, claim);
  w.i64(6, header.length + page.length);
  w.i64(7, header.length + page.length);
  w.i64(9, 4);
  w.end();
  w.end();
  w.i64(2, header.length + page.length);
  w.i64(3, rows);
  w.end();
  w.end();
  const footer = w.result();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.length);
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([Buffer.from('PAR1'), header, page, footer, length, Buffer.from('PAR1')]));
  return file;
}

interface ChildResult {
  code?: string;
  file?: string;
  message?: string;
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  buffersMb?: number;
}

function readInChild(path: string): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, [CHILD]: path };
  delete env.NODE_TEST_CONTEXT; // the child is a plain script, not a test file
  const out = execFileSync(process.execPath, nodeScript(fileURLToPath(import.meta.url)), {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out) as ChildResult;
}

async function rowsOf(path: string): Promise<Record<string, unknown>[]> {
  return (await pipeline(fromParquet(path), collect(), { governor: false })).output as Record<string, unknown>[];
}

const CLAIM = 30_000_000;
const values = [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]; // three PLAIN int32

/** The tests (not registered in a child, whose stdout is its result). */
function registerTests(): void {
  test('crafted pages are read when their claims are true (the crafting is right)', async () => {
    const list = craft(
      'list-ok.parquet',
      true,
      [...levels([...run(1, 0), ...run(2, 1)]), ...levels(run(3, 3)), ...values],
      3,
      1,
    );
    assert.deepEqual(
      (await rowsOf(list)).map((r) => r.ids),
      [[1, 2, 3]],
    );
    const flat = craft('flat-ok.parquet', false, [...levels(run(3, 1)), ...values], 3, 3);
    assert.deepEqual(
      (await rowsOf(flat)).map((r) => r.x),
      [1, 2, 3],
    );
  });

  // [label, nested, page body, row group rows, num_values claimed by the page header and the footer]
  const cases: [string, boolean, number[], number, number][] = [
    // levels that end after 3 entries, under a header claiming 30 million
    ['list, short levels', true, [...levels(run(3, 0)), ...levels(run(3, 3)), ...values], 3, CLAIM],
    // RLE levels that do encode 30 million defined entries, with values for 3
    [
      'list, levels claiming every value',
      true,
      [...levels(run(CLAIM, 0)), ...levels(run(CLAIM, 3)), ...values],
      CLAIM,
      CLAIM,
    ],
    ['flat, short levels', false, [...levels(run(3, 1)), ...values], 3, CLAIM],
    ['flat, levels claiming every value', false, [...levels(run(CLAIM, 1)), ...values], CLAIM, CLAIM],
    // RLE levels that do encode 30 million nulls, in a row group of 3 rows: one entry is one row
    ['flat, null rows past the row group', false, levels(run(CLAIM, 0)), 3, CLAIM],
    // a page of 3 values whose one RLE run says 100 million (hyparquet wrote the whole run into an array)
    ['flat, a run far past the page', false, [...levels(run(100_000_000, 1)), ...values], 3, 3],
    ['list, a run far past the page', true, [...levels(run(100_000_000, 0)), ...levels(run(3, 3)), ...values], 1, 3],
  ];

  for (const [label, nested, body, rows, claim] of cases) {
    test(`a crafted page the bytes do not back (${label}): a FormatError naming file and column, fast, in bounded memory`, {
      timeout: 120_000,
    }, () => {
      const path = craft(`${label.replace(/\W+/g, '-')}.parquet`, nested, body, claim, rows);
      const got = readInChild(path);
      assert.equal(got.code, ErrorCodes.FORMAT, JSON.stringify(got));
      assert.equal(got.file, path);
      assert.match(got.message!, nested ? /column `ids`/ : /column `x`/);
      // a child reading a true 3-value page peaks near 130 MB; arrays sized from a claim add 30-600 MB
      const good = nested
        ? [...levels([...run(1, 0), ...run(2, 1)]), ...levels(run(3, 3)), ...values]
        : [...levels(run(3, 1)), ...values];
      const baseline = readInChild(craft(`base-${nested}.parquet`, nested, good, 3, nested ? 1 : 3));
      assert.equal(baseline.code, undefined, JSON.stringify(baseline));
      assert.ok(
        got.maxRssMb < baseline.maxRssMb + 20,
        `peak RSS ${got.maxRssMb} MB, ${baseline.maxRssMb} MB for a true page: ${JSON.stringify(got)}`,
      );
      assert.ok(
        (got.buffersMb ?? 0) < 16,
        `${got.buffersMb} MB of ArrayBuffers at the failure: ${JSON.stringify(got)}`,
      );
      // CPU, not wall time (a loaded machine stretches the latter): filling arrays sized from the
      // claim cost seconds; refusing it costs what reading a true page costs
      assert.ok(
        got.cpuMs < baseline.cpuMs + 1500,
        `${got.cpuMs} ms of CPU, ${baseline.cpuMs} ms for a true page: ${JSON.stringify(got)}`,
      );
    });
  }

  test('scanHybrid counts runs without decoding; scanDelta walks blocks; checkValuesFit refuses short value bytes', () => {
    const rle = Uint8Array.from([...run(1000, 1), 3, 0xff]); // a run of 1000, then one bit-packed group of 8
    assert.deepEqual(scanHybrid(rle, 0, rle.length, 1, 2000, 1), { total: 1008, matching: 1008, overrun: 0 });
    assert.deepEqual(scanHybrid(rle, 0, rle.length, 1, 10, 1), { total: 10, matching: 10, overrun: 990 });
    assert.equal(scanHybrid(rle, 0, 3, 1, 2000).total, 1000, 'a bit-packed group past the end is not counted');
    // bit-packed 3-bit values 0..7 (one group): how many equal 5
    const packed = Uint8Array.from([3, 0b10001000, 0b11000110, 0b11111010]);
    assert.deepEqual(scanHybrid(packed, 0, packed.length, 3, 8, 5), { total: 8, matching: 1, overrun: 0 });
    // delta: blocks of 128 in 4 miniblocks, 300 values, first value 5; blocks of width 0
    const block = [0, 0, 0, 0, 0];
    const delta = Uint8Array.from([...uleb(128), 4, ...uleb(300), 10, ...block, ...block, ...block]);
    assert.equal(scanDelta(delta, 0, delta.length, 1000), 300);
    assert.equal(scanDelta(delta, 0, delta.length - 5, 1000), 257, 'two blocks hold 1 + 256');
    assert.throws(() => scanDelta(Uint8Array.from([0, 4, 10, 0]), 0, 4, 10), /delta header/);
    const shape = { maxRep: 0, maxDef: 1, type: 'INT64' as const };
    checkValuesFit(new Uint8Array(16), 0, 16, 'PLAIN', shape, 2);
    assert.throws(() => checkValuesFit(new Uint8Array(16), 0, 16, 'PLAIN', shape, 3), /claims 3 values/);
    assert.throws(
      () => checkValuesFit(Uint8Array.from([2, ...run(5, 1)]), 0, 3, 'RLE_DICTIONARY', shape, 6),
      /dictionary indices encode 5 of the 6/,
    );
  });

  test('checkPageV1 counts defined values exactly (bit-packed levels too), so a long index run is not mistaken for an overrun', () => {
    // 2000 entries: definition levels bit-packed (every 4th null), then one RLE run of 1500 dictionary indices
    const defBits = Array.from({ length: 250 }, () => 0b11101110);
    const page = Uint8Array.from([...levels([...uleb(250 * 2 + 1), ...defBits]), 1, ...run(1500, 0)]);
    const daph = {
      num_values: 2000,
      encoding: 'RLE_DICTIONARY' as const,
      definition_level_encoding: 'RLE' as const,
      repetition_level_encoding: 'RLE' as const,
    };
    checkPageV1(page, daph, { maxRep: 0, maxDef: 1, type: 'INT32' });
    // the same run reaching 100,000 values past the 1500: refused
    const far = Uint8Array.from([...levels([...uleb(250 * 2 + 1), ...defBits]), 1, ...run(101_500, 0)]);
    assert.throws(() => checkPageV1(far, daph, { maxRep: 0, maxDef: 1, type: 'INT32' }), /reaches 100000 values past/);
  });

  test('checkDictionaryFits: a dictionary page cannot claim more entries than its bytes hold PLAIN', () => {
    const dict = (n: number, size: number): Parameters<typeof checkDictionaryFits>[0] => ({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: size,
      compressed_page_size: size,
      dictionary_page_header: { num_values: n, encoding: 'PLAIN' },
    });
    checkDictionaryFits(dict(262_144, 1 << 20), 'BYTE_ARRAY', undefined); // a MB of empty strings
    assert.throws(() => checkDictionaryFits(dict(8 << 20, 1 << 20), 'BYTE_ARRAY', undefined), /at most 262144/);
    checkDictionaryFits(dict(100, 800), 'INT64', undefined);
    assert.throws(() => checkDictionaryFits(dict(101, 800), 'INT64', undefined), /101 INT64 entries/);
    checkDictionaryFits(dict(10, 160), 'FIXED_LEN_BYTE_ARRAY', 16);
    assert.throws(() => checkDictionaryFits(dict(11, 160), 'FIXED_LEN_BYTE_ARRAY', 16));
  });

  test('a FormatError names the file for a crafted page read in this process too', async () => {
    const path = craft('in-process.parquet', true, [...levels(run(3, 0)), ...levels(run(3, 3)), ...values], CLAIM, 3);
    await assert.rejects(
      pipeline(
        fromParquet(path),
        mapBatch(() => []),
        { governor: false },
      ),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.FORMAT && e.context.file === path,
    );
  });
}

const childPath = process.env[CHILD];
if (childPath) await child(childPath);
else registerTests();
