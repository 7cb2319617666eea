/**
 * The short, fixed-seed run of the fuzz suite that `npm test` includes (the long run is
 * `npm run fuzz`, see docs/fuzzing.md): generated files of every format and a fixed sample of
 * the corpus, mutated, each read in child processes with time and memory limits. Every read must
 * end in a coded SpillwayError naming the file or in rows (the original's, or others where the
 * format has no checksum); a spill must never give other rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CORPUS, corpusSkip, tempDir } from '../helpers.ts';
import { runFuzz } from './runner.ts';
import { drain, fromParquet, pipeline } from '../../index.ts';
import { MIDDLE_IDS, corpusTargets, generatedTargets } from './targets.ts';

test('fuzz: 150 mutated files (seed 19) end in coded errors or rows, never a hang, crash, memory blow-up or foreign error', {
  timeout: 600_000,
}, async (t) => {
  if (corpusSkip) {
    if (process.env.CI === 'true') assert.fail(corpusSkip);
    t.diagnostic(`${corpusSkip}: generated files only`);
  }
  const work = tempDir('spillway-fuzz-test-');
  // a fixed sample of the corpus: every fifth file of each format, in path order
  const corpus = corpusTargets(CORPUS).filter((_, i) => i % 5 === 0);
  const generated = await generatedTargets(work);
  // the `where` seed must keep pages out on both sides, or its reads no longer test page pushdown
  const paged = generated.find((target) => target.readers.includes('parquet-where'))!;
  const { stats } = await pipeline(fromParquet(paged.path, { where: MIDDLE_IDS }), drain(), { governor: false });
  const pages = stats.stages[0]!.details as { pagesSkipped: number; rowGroupsRead: number };
  assert.ok(pages.pagesSkipped > 0 && stats.rowsOut === 80, `the where seed read ${JSON.stringify(pages)}`);
  const targets = [...generated, ...corpus];
  const failures: string[] = [];
  const report = await runFuzz({
    targets,
    seed: 19,
    cases: 150,
    scratch: join(work, 'cases'),
    jobs: 2,
    perChild: 120,
    timeoutMs: 30_000,
    rssLimitMb: 768,
    log: (line) => {
      if (line.startsWith('FAIL')) failures.push(line);
    },
  });
  t.diagnostic(
    Object.entries(report.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  assert.deepEqual(failures, []);
  assert.equal(report.failures.length, 0);
  // a run that never saw an error, or never saw the original rows, mutated nothing that matters
  assert.ok(report.counts.error > 20, `only ${report.counts.error} mutated files were refused`);
  assert.ok(report.counts.same > 5, `only ${report.counts.same} reads gave the original rows`);
});
