/**
 * Comments read as DuckDB reads them: with `comment: '#'` (DuckDB's `comment='#'`), on the fast
 * path and the csv-parse path, whole-line, indented, end-of-line and after a closing quote, with
 * `#` inside quotes as text; and sniffed, without options. Both paths give the same rows or the
 * same error at any chunk boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromCsv, collect } from '../../index.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
let connection: DuckDBConnection | undefined;
async function duck(): Promise<DuckDBConnection> {
  connection ??= await (await DuckDBInstance.create(':memory:')).connect();
  return connection;
}

type Outcome = { rows: (string | null)[][] } | { error: string };

/** DuckDB with comment='#' and the columns a, b as text; NULL (an empty unquoted value) as ''. */
async function duckComment(path: string): Promise<Outcome> {
  const c = await duck();
  try {
    const r = await c.runAndReadAll(
      `SELECT a, b FROM read_csv('${path}', comment='#', delim=',', quote='"', escape='"', header=true, auto_detect=false, columns={'a':'VARCHAR','b':'VARCHAR'})`,
    );
    return { rows: r.getRowsJson().map((row) => row.map((v) => (v === null ? '' : String(v)))) };
  } catch (error) {
    return { error: String(error) };
  }
}

async function spillway(
  path: string,
  options: Record<string, unknown>,
): Promise<{ rows?: (string | null)[][]; error?: string; parser?: unknown }> {
  try {
    const { output, stats } = await pipeline(fromCsv(path, options), collect());
    return {
      rows: (output as Record<string, string>[]).map((r) => Object.values(r)),
      parser: stats.stages[0]?.details.parser,
    };
  } catch (error) {
    const e = error as { code?: string; message: string; context?: { line?: number } };
    return { error: `${e.code} line ${e.context?.line}: ${e.message}` };
  }
}

const CASES: Record<string, string> = {
  'end-of-line': 'a,b\n1,2 # note\n3,4#x\n5,6\n',
  'spaces-kept': 'a,b\nx, y # note\nx ,y#x\n',
  'inside-quotes': 'a,b\n"x#y",2\n3,"4#"\n1,"x\n  # inside"\n',
  'empty-before': 'a,b\n1,#x\n3,4\n',
  'after-quote': 'a,b\n"x","y" # c\n"p","q"# c\n1,"2"  # x\n',
  'indented-lines': 'a,b\n1,2\n  # note\n   #\n3,4\n  # last',
  'cr-lines': 'a,b\r1,2 #c\r  # w\r3,4\r',
  'crlf-lines': 'a,b\r\n1,2 #c\r\n  # w\r\n3,4\r\n',
  'header-comment': 'a,b # names\n1,2\n',
  'no-newline': 'a,b\n1,2 # x',
  'stray-quote': 'a,b\n1,x"y#z\n3,4\n',
};

test("comment: '#' reads what DuckDB's comment='#' reads, on the fast path and on csv-parse", async (t) => {
  for (const [name, text] of Object.entries(CASES)) {
    await t.test(name, async () => {
      const path = join(dir, `${name}.csv`);
      writeFileSync(path, text);
      const want = await duckComment(path);
      assert.ok('rows' in want, `DuckDB reads ${name}`);
      const fast = await spillway(path, { comment: '#' });
      assert.equal(fast.parser, 'fast');
      assert.deepEqual(fast.rows, want.rows, 'fast path');
      const arrow = await spillway(path, { comment: '#', output: 'arrow' });
      assert.deepEqual(arrow.rows, want.rows, 'fast path, Arrow');
      const parsed = await spillway(path, { comment: '#', parser: 'csv-parse' });
      assert.equal(parsed.parser, 'csv-parse');
      assert.deepEqual(parsed.rows, want.rows, 'csv-parse');
    });
  }
});

test("lines DuckDB refuses with comment='#' (a tab before the comment, a comment cutting the record short) are refused with their line", async () => {
  for (const [name, text, line] of [
    ['tab-indented', 'a,b\n1,2\n\t# note\n3,4\n', 3],
    ['quote-then-comment', 'a,b\n"x" # c,"y"\n3,4\n', 2],
  ] as const) {
    const path = join(dir, `${name}.csv`);
    writeFileSync(path, text);
    assert.ok('error' in (await duckComment(path)), `DuckDB refuses ${name}`);
    for (const parser of ['auto', 'csv-parse']) {
      const got = await spillway(path, { comment: '#', parser });
      assert.ok(got.error, `${name} ${parser}`);
      assert.match(got.error, new RegExp(`^ERR_SPILLWAY_CSV_PARSE line ${line}: CSV_RECORD_INCONSISTENT_COLUMNS`));
    }
  }
});

test('a comment after a field of only spaces, a record DuckDB drops silently, is refused; skip mode drops it visibly', async () => {
  const path = join(dir, 'blank-field.csv');
  writeFileSync(path, 'a,b\n1,  # x\n3,4\n');
  const want = await duckComment(path);
  assert.deepEqual(want, { rows: [['3', '4']] });
  for (const parser of ['auto', 'csv-parse'] as const) {
    const got = await spillway(path, { comment: '#', parser });
    assert.ok(got.error);
    assert.match(
      got.error,
      /^ERR_SPILLWAY_CSV_PARSE line 2: CSV_COMMENT_AFTER_BLANK_FIELD: A comment follows a field of only spaces/,
    );
    const { output, stats } = await pipeline(fromCsv(path, { comment: '#', parser, onError: 'skip' }), collect());
    assert.deepEqual(output, [{ a: '3', b: '4' }]);
    assert.equal(stats.stages[0]?.rowsSkipped, 1);
  }
});

/** DuckDB's own reading with no options, all text. */
async function duckAuto(path: string): Promise<(string | null)[][]> {
  const r = await (await duck()).runAndReadAll(`SELECT * FROM read_csv('${path}', all_varchar=true)`);
  return r.getRowsJson().map((row) => row.map((v) => (v === null ? '' : String(v))));
}

test('sniffed: comment lines between records make end-of-line comments comments (as DuckDB); before the records only, # after a value stays text', async () => {
  for (const [name, text, inline] of [
    ['between', 'a,b\n1,x\n# mid\n3,y # eol\n5,z\n', true],
    ['between-2', 'a,b\n1,x # e\n# mid\n3,y # eol\n5,z\n# end\n', true],
    ['before', '# top\na,b\n1,x # note\n3,y\n5,z\n', false],
    ['none', 'a,b\n1,2 # note\n3,4#x\n5,6\n', undefined],
  ] as const) {
    const path = join(dir, `sniffed-${name}.csv`);
    writeFileSync(path, text);
    const want = await duckAuto(path);
    const { output, stats } = await pipeline(fromCsv(path), collect());
    assert.deepEqual(
      (output as Record<string, string>[]).map((r) => Object.values(r)),
      want,
      name,
    );
    assert.equal(stats.stages[0]?.details.comment, inline === undefined ? undefined : '#', name);
  }
});

test("sniffed: a tab-indented # line is not a comment (DuckDB's rule), so it is a short record with its line", async () => {
  const path = join(dir, 'sniffed-tab.csv');
  writeFileSync(path, 'a,b\n1,2\n# note\n\t# tabbed\n3,4\n');
  const got = await spillway(path, {});
  assert.ok(got.error);
  assert.match(got.error, /^ERR_SPILLWAY_CSV_PARSE line 4: CSV_RECORD_INCONSISTENT_COLUMNS/);
});

const piece = fc.constantFrom('1', 'x y', ' ', '  ', '#', ' # c', '"q"', '"a#b"', '"n\nl"', '""', '"x" ', 'z"w', '\t');

// relax_quotes: false, so both paths quote alike (unset, csv-parse relaxes text after a closing quote; the fast path refuses it, as DuckDB)
test('property: the fast path and csv-parse give the same rows or the same error, at any chunk boundary', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(piece, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
      fc.constantFrom('\n', '\r\n'),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
      async (lines, newline, cuts) => {
        const text = `a,b${newline}${lines.map((parts) => parts.join(',')).join(newline)}${newline}`;
        const bytes = Buffer.from(text);
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < bytes.length; k++) {
          const size = cuts[k % cuts.length]!;
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        const read = async (parser: 'fast' | 'csv-parse') => {
          try {
            const { output } = await pipeline(
              fromCsv(Readable.from(chunks), { comment: '#', parser, columns: ['a', 'b'], relax_quotes: false }),
              collect(),
            );
            return { rows: output };
          } catch (error) {
            const e = error as { code?: string; context?: { line?: number }; message: string };
            // a record with two faults may be refused for either: the same record, on the same line
            return { error: `${e.code} line ${e.context?.line}` };
          }
        };
        const fast = await read('fast');
        const parsed = await read('csv-parse');
        // a record spanning lines (a quoted line break) with two faults may be refused for either,
        // each on its own line: the csv-parse path's comment filter runs ahead of the parser
        const span = Math.max(...lines.map((parts) => parts.join(',').split('\n').length - 1));
        if (fast.error !== undefined && parsed.error !== undefined && span > 0) {
          const [codeA, lineA] = fast.error.split(' line ');
          const [codeB, lineB] = parsed.error.split(' line ');
          assert.equal(codeA, codeB, JSON.stringify(text));
          assert.ok(
            Math.abs(Number(lineA) - Number(lineB)) <= span,
            `${fast.error} / ${parsed.error}: ${JSON.stringify(text)}`,
          );
        } else assert.deepEqual(fast, parsed, JSON.stringify(text));
      },
    ),
    {
      numRuns: 300,
      // a stray quote, then a comment after a blank field in the same record: both refuse the quote (line 2)
      examples: [
        [[['z"w', '"n\nl"', ' # c']], '\n', [1]],
        // a closing quote then a space (line 2), and a comment after a blank field (line 3), in one record
        [[['"x" ', '"n\nl"', ' # c'], ['1']], '\n', [1]],
      ],
    },
  );
});
