/**
 * `spillway convert` run as users run it: the real CLI in a child process, real files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { type CliRun, runCli, tempDir } from '../helpers.ts';
import { duckDescribe, duckRows, sqlString } from '../lib/formats/parquet/duckdb.ts';

const convert = (...args: string[]): Promise<CliRun> => runCli('convert', ...args);

/** A CSV whose text survives typing (canonical numbers, true/false, empty cells, quoting). */
function csvText(rows: number): string {
  const lines = ['id,name,price,active,note'];
  for (let i = 0; i < rows; i++) {
    const note = i % 4 === 0 ? '' : i % 9 === 0 ? '"line one\nline ""two"", end"' : `note ${i % 11}`;
    lines.push(`${i},"Name, ${i % 23}",${i % 3 === 0 ? i : i / 8},${i % 2 === 0},${note}`);
  }
  return `${lines.join('\n')}\n`;
}

function assertOk(run: CliRun, what: string): void {
  assert.equal(run.code, 0, `${what}: ${run.stderr}`);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /^converted .+: [\d,]+ rows, [\d.]+ (B|kB|MB) written, [\d.]+ (ms|s|min)/);
  assert.equal(run.stdout.trim().split('\n').length, 1, 'one summary line');
}

test('csv -> parquet -> arrow -> csv round trip equals the input', { timeout: 480_000 }, async () => {
  const dir = tempDir();
  const input = join(dir, 'in.csv');
  const text = csvText(5000);
  writeFileSync(input, text);
  const steps: [string, string][] = [
    ['in.csv', 'a.parquet'],
    ['a.parquet', 'b.arrow'],
    ['b.arrow', 'c.arrows'],
    ['c.arrows', 'd.csv.gz'],
    ['d.csv.gz', 'e.csv'],
  ];
  for (const [from, to] of steps) {
    const run = await convert(join(dir, from), join(dir, to), '--batch-size', '1200');
    assertOk(run, `${from} -> ${to}`);
    assert.match(run.stdout, /5,000 rows/);
  }
  assert.equal(gunzipSync(readFileSync(join(dir, 'd.csv.gz'))).toString(), text);
  assert.equal(readFileSync(join(dir, 'e.csv'), 'utf8'), text);
  assert.equal(readFileSync(join(dir, 'b.arrow')).subarray(0, 6).toString(), 'ARROW1', '.arrow is the file format');
  assert.notEqual(
    readFileSync(join(dir, 'c.arrows')).subarray(0, 6).toString(),
    'ARROW1',
    '.arrows is the stream format',
  );
});

test('--columns, --compression and --from/--to flags', { timeout: 480_000 }, async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'in.csv.gz'), gzipSync(csvText(300)));
  assertOk(await convert(join(dir, 'in.csv.gz'), join(dir, 'p.parquet'), '--compression', 'zstd'), 'zstd parquet');
  assertOk(
    await convert(
      join(dir, 'p.parquet'),
      join(dir, 'out.data'),
      '--to',
      'arrow',
      '--columns',
      'price,id',
      '--compression=zstd',
    ),
    'projected arrow',
  );
  assertOk(await convert(join(dir, 'out.data'), join(dir, 'out.csv'), '--from', 'arrow'), 'arrow -> csv');
  // no --from and no extension that names a format: Parquet and Arrow are known by their first bytes
  writeFileSync(join(dir, 'p.bin'), readFileSync(join(dir, 'p.parquet')));
  assertOk(await convert(join(dir, 'p.bin'), join(dir, 'from-magic.arrow_file'), '--to', 'arrow'), 'parquet by magic');
  assertOk(await convert(join(dir, 'from-magic.arrow_file'), join(dir, 'magic.csv')), 'arrow by magic');
  assertOk(await convert(join(dir, 'p.parquet'), join(dir, 'direct.csv')), 'parquet -> csv');
  assert.equal(readFileSync(join(dir, 'magic.csv'), 'utf8'), readFileSync(join(dir, 'direct.csv'), 'utf8'));
  const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'price,id');
  assert.equal(lines[1], '0,0');
  assert.equal(lines[2], '0.125,1');
  assert.equal(lines.length, 301);
  // CSV in, projected
  assertOk(await convert(join(dir, 'in.csv.gz'), join(dir, 'names.csv'), '--columns', 'name'), 'csv projection');
  assert.equal(readFileSync(join(dir, 'names.csv'), 'utf8').split('\n')[1], '"Name, 0"');
  // gzip by flag
  assertOk(await convert(join(dir, 'out.csv'), join(dir, 'out2.csv.gz'), '--compression', 'gzip'), 'gzip csv');
  assert.equal(
    gunzipSync(readFileSync(join(dir, 'out2.csv.gz')))
      .toString()
      .split('\n')[0],
    'price,id',
  );
});

test('convert reads as DuckDB does: CSV columns typed whole, empty fields NULL in --where, JSON Lines projected; a report named .html is HTML', {
  timeout: 480_000,
}, async () => {
  const dir = tempDir();
  const csv = join(dir, 'in.csv');
  // a zip code keeps its zeros, a text column with one number stays text, TRUE/true is a boolean
  writeFileSync(csv, 'zip,note,flag,qty,price\n00501,hello,TRUE,1,10.5\n10001,42,true,,\n02134,x,false,3,20\n');
  const out = join(dir, 'out.parquet');
  assertOk(
    await convert(csv, out, '--columns', 'zip,note,flag,qty', '--report', join(dir, 'r.html')),
    'csv -> parquet',
  );
  assert.deepEqual(await duckDescribe(`SELECT * FROM ${sqlString(out)}`), {
    zip: 'VARCHAR',
    note: 'VARCHAR',
    flag: 'BOOLEAN',
    qty: 'BIGINT',
  });
  const { rows } = await duckRows(`SELECT zip, note, flag FROM ${sqlString(out)}`);
  assert.deepEqual(
    rows.map((r) => `${r.zip} ${r.note} ${r.flag}`),
    ['00501 hello true', '10001 42 true', '02134 x false'],
  );
  assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /^<!doctype html>/i);
  // CSV kept as text: an empty field is NULL to --where, as to DuckDB
  const where = async (predicate: string): Promise<string> => {
    const target = join(dir, 'w.csv');
    assertOk(await convert(csv, target, '--where', predicate), predicate);
    return readFileSync(target, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0])
      .join(' ');
  };
  assert.equal(await where('{"col":"qty","op":"isNull"}'), '10001');
  assert.equal(await where('{"not":{"col":"price","op":"<","value":15}}'), '02134');
  assert.equal(await where('{"col":"price","op":"!=","value":20}'), '00501');
  // JSON Lines: --columns keeps those columns, in that order, and refuses an unknown one
  const jsonl = join(dir, 'in.jsonl');
  writeFileSync(jsonl, '{"a":1,"b":"x","c":true}\n{"a":2,"b":"y","c":false}\n');
  assertOk(await convert(jsonl, join(dir, 'p.csv'), '--columns', 'c,a'), 'jsonl projected');
  assert.equal(readFileSync(join(dir, 'p.csv'), 'utf8'), 'c,a\ntrue,1\nfalse,2\n');
  const unknown = await convert(jsonl, join(dir, 'q.csv'), '--columns', 'nosuch');
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no column "nosuch"/);
  // a compression the output name contradicts would write a file convert cannot read back
  for (const [name, compression] of [
    ['g.csv', 'gzip'],
    ['n.csv.gz', 'none'],
  ] as const) {
    const run = await convert(csv, join(dir, name), '--compression', compression);
    assert.notEqual(run.code, 0, name);
    assert.match(run.stderr, /--compression (gzip|none) writes/, name);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['in.csv', 'in.jsonl', 'out.parquet', 'p.csv', 'r.html', 'w.csv']);
});

test("an error whose advice is a library option gives advice the CLI can follow (it said 'declare options.schema')", {
  timeout: 480_000,
}, async () => {
  const dir = tempDir();
  const jsonl = join(dir, 'sparse.jsonl');
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify(i < 30 ? { a: i } : { a: i, late: 'x' }));
  writeFileSync(jsonl, `${lines.join('\n')}\n`);
  const refused = await convert(jsonl, join(dir, 'a.parquet'), '--batch-size', '10');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /pass --batch-size past row 30, where it first appears/);
  assertOk(await convert(jsonl, join(dir, 'b.parquet'), '--batch-size', '40'), 'the advice followed');
  const tree = join(dir, 'tree');
  const source = join(dir, 'b.parquet');
  assertOk(await convert(source, tree, '--to', 'parquet', '--partition-by', 'late'), 'a tree');
  const again = await convert(source, tree, '--to', 'parquet', '--partition-by', 'late');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /convert never appends to or overwrites a tree: remove it first/);
});

test('bad input: non-zero exit, one error line, no output file', { timeout: 480_000 }, async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'in.csv'), 'a,b\n1,2\n');
  writeFileSync(join(dir, 'corrupt.parquet'), 'PAR1 this is not parquet at all PAR1');
  writeFileSync(join(dir, 'corrupt.arrow'), Buffer.from('ARROW1\0\0 not really arrow ARROW1'));
  const cases: [string[], RegExp][] = [
    [[join(dir, 'missing.csv'), join(dir, 'x.parquet')], /missing\.csv.*ERR_SPILLWAY_IO/],
    [[join(dir, 'corrupt.parquet'), join(dir, 'x.csv')], /corrupt\.parquet.*ERR_SPILLWAY_(FORMAT|UNSUPPORTED)/],
    [[join(dir, 'corrupt.arrow'), join(dir, 'x.csv')], /corrupt\.arrow.*ERR_SPILLWAY_FORMAT/],
    [[join(dir, 'in.csv'), join(dir, 'x.json')], /cannot tell the format of .*x\.json/],
    [[join(dir, 'in.txt'), join(dir, 'x.csv')], /cannot tell the format of .*in\.txt/],
    [[join(dir, 'in.csv'), join(dir, 'x.csv'), '--bogus'], /unknown option --bogus/],
    [[join(dir, 'in.csv'), join(dir, 'x.csv'), '--batch-size', '0'], /--batch-size must be a positive integer/],
    [[join(dir, 'in.csv'), join(dir, 'x.csv'), '--batch-size'], /--batch-size needs a value/],
    [
      [join(dir, 'in.csv'), join(dir, 'x.arrow'), '--compression', 'snappy'],
      /--compression for arrow output must be one of lz4, zstd, none/,
    ],
    [[join(dir, 'in.csv'), join(dir, 'x.parquet'), '--from', 'xls'], /--from must be one of csv, parquet, arrow/],
    [[join(dir, 'in.csv'), join(dir, 'x.arrow'), '--columns', 'a,zz'], /no column .*zz/],
    [[join(dir, 'in.csv')], /expected an input and an output file/],
  ];
  for (const [args, pattern] of cases) {
    const run = await convert(...args);
    assert.notEqual(run.code, 0, `${args.join(' ')} should fail`);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one error line for ${args.join(' ')}: ${run.stderr}`);
    assert.match(lines[0]!, /^spillway convert: /);
    assert.match(lines[0]!, pattern);
  }
  assert.deepEqual(
    readdirSync(dir).sort(),
    ['corrupt.arrow', 'corrupt.parquet', 'in.csv'],
    'no output or temporary files',
  );
});

test('convert --help prints the usage', async () => {
  const run = await convert('--help');
  assert.equal(run.code, 0);
  assert.match(run.stdout, /Usage: spillway convert IN OUT/);
});
