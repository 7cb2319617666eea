/**
 * Format negotiation: what a source is told to produce for the stages after it, and what the
 * stages then receive (stats.details.input), on real pipelines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectionFor, resolveForm } from '../../../lib/core/negotiate.ts';
import { capabilities } from '../../../lib/core/stage.ts';
import { pipeline, fromCsv, toParquet, filter, map, collect, drain } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir();
const csv = join(dir, 'n.csv');
writeFileSync(csv, `a,b\n${Array.from({ length: 50 }, (_, i) => `${i},x${i}`).join('\n')}\n`);

const rowsOnly = capabilities(undefined);
const arrowSink = capabilities({ accepts: ['rows', 'arrow'] });
const viewFilter = capabilities({ accepts: ['rows', 'arrow', 'view'], keepsForm: true });

test('resolveForm: Arrow when the next stage reads Arrow, rows when it needs objects', () => {
  assert.equal(resolveForm(['rows', 'arrow'], [arrowSink]).form, 'arrow');
  assert.equal(resolveForm(['rows', 'arrow'], [viewFilter, viewFilter, arrowSink]).form, 'arrow');
  // a filter reads Arrow; the map after it makes rows only of what the filter kept
  assert.equal(resolveForm(['rows', 'arrow'], [viewFilter, rowsOnly, arrowSink]).form, 'arrow');
  assert.equal(resolveForm(['rows', 'arrow'], [rowsOnly]).form, 'rows');
  // a foreign stream gets the source's first form; a rows-only source is never asked for Arrow
  assert.equal(resolveForm(['rows', 'arrow'], [undefined, arrowSink]).form, 'rows');
  assert.equal(resolveForm(['rows'], [arrowSink]).form, 'rows');
});

test('fromCsv -> toParquet: the source produces Arrow unasked, and the sink receives Arrow', async () => {
  const { stats } = await pipeline(fromCsv(csv, { cast: true }), toParquet(join(dir, 'a.parquet')));
  const [source, sink] = stats.stages;
  assert.equal(source!.details.output, 'arrow');
  assert.match(String(source!.details.outputChosen), /^arrow/);
  assert.equal(sink!.details.input, 'arrow');
});

test('a filter over views is looked through; a map that needs whole rows gets them made once by the source', async () => {
  const viaFilter = await pipeline(
    fromCsv(csv, { cast: true }),
    filter((r: { a: number }) => r.a % 2 === 0),
    toParquet(join(dir, 'f.parquet')),
  );
  assert.deepEqual(
    viaFilter.stats.stages.map((s) => s.details.input ?? s.details.output),
    ['arrow', 'arrow', 'arrow'],
  );
  assert.equal(viaFilter.output.rows, 25);
  const viaMap = await pipeline(
    fromCsv(csv, { cast: true }),
    // the row spread after a key: not `{ ...row, k: v }`, so the map takes whole rows
    map((r: { a: number; b: string }) => ({ c: r.a * 2, ...r })),
    toParquet(join(dir, 'm.parquet')),
  );
  assert.deepEqual(
    viaMap.stats.stages.map((s) => s.details.input ?? s.details.output),
    ['rows', 'rows', 'rows'],
  );
});

test("a map whose function shows the fields it reads takes Arrow; the source fills those and the filter's", async () => {
  const { stats, output } = await pipeline(
    fromCsv(csv, { cast: true }),
    filter((r: { a: number }) => r.a % 2 === 0),
    map((r: { a: number }) => ({ twice: r.a * 2 })),
    collect(),
  );
  // the map's one result is a literal of fixed keys: it runs by column, and collect gets Arrow
  assert.deepEqual(
    stats.stages.map((s) => s.details.input ?? s.details.output),
    ['arrow', 'arrow', 'arrow', 'arrow'],
  );
  assert.equal(stats.stages[0]!.details.projection, 'a');
  assert.equal(stats.stages[2]!.details.fieldsRead, 'a');
  assert.deepEqual(output.slice(0, 2), [{ twice: 0 }, { twice: 4 }]);
  // projectionFor: a filter's columns count only when a stage after it names its own
  const inspecting = capabilities({ accepts: ['rows', 'arrow', 'view'], keepsForm: true, inspects: ['a'] });
  const reading = capabilities({ accepts: ['rows', 'arrow'], reads: ['b'] });
  assert.deepEqual(projectionFor([inspecting, reading]), ['a', 'b']);
  assert.equal(projectionFor([inspecting, arrowSink]), undefined);
  assert.equal(projectionFor([viewFilter, reading]), undefined);
  assert.equal(projectionFor([capabilities({ accepts: ['rows', 'arrow'], reads: [] })]), undefined);
});

test("output: 'rows' given explicitly is kept (no offer is made); collect gets rows; drain takes Arrow", async () => {
  const forced = await pipeline(fromCsv(csv, { cast: true, output: 'rows' }), toParquet(join(dir, 'r.parquet')));
  assert.equal(forced.stats.stages[0]!.details.output, 'rows');
  assert.equal(forced.stats.stages[0]!.details.outputChosen, undefined);
  assert.equal(forced.stats.stages[1]!.details.input, 'rows');
  const collected = await pipeline(fromCsv(csv, { cast: true }), collect());
  assert.equal(collected.stats.stages[0]!.details.output, 'rows');
  assert.deepEqual(collected.output[3], { a: 3, b: 'x3' });
  const drained = await pipeline(fromCsv(csv, { cast: true }), drain());
  assert.equal(drained.stats.stages[1]!.details.input, 'arrow');
});
