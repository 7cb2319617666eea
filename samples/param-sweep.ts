/**
 * A parameter sweep: 12,000 configurations of a trend-following strategy (position size x risk
 * per trade x stop loss x take profit x sizing method) backtested on 20 years of generated daily
 * bars, in parallel workers, results into a spill sink. Prints the best configuration by Sharpe
 * and by Calmar ratio, the success rate and the configurations that failed.
 *
 *   node --import tsx samples/param-sweep.ts                 # every core, worker threads
 *   node --import tsx samples/param-sweep.ts --workers 2 --isolation process
 *   node --import tsx samples/param-sweep.ts --serial        # no workers: same best configuration
 *   node --import tsx samples/param-sweep.ts --configs 600   # a deterministic sample of the grid
 *   ... --json                                               # one JSON summary line (for tests)
 *
 * Some configurations are impossible (risk sizing that would need more than the 2x margin the
 * broker allows) and throw. The pool sends a failed batch to its dead-letter file; a second pass
 * re-runs those configurations one per batch, so the good ones are recovered and only the bad ones
 * remain failed. `--serial` catches the same errors per configuration.
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, fromIterable, map, parallel, toSpill, type Spilled } from 'spillway';
import type { WorkerStats } from 'spillway/workers';
import backtest, { BARS, random } from './backtest.ts';
import type { SweepConfig, SweepResult } from './backtest.ts';

// the workers load the module by its URL: backtest.js beside this file once tsc has compiled both
const BACKTEST = new URL(import.meta.url.endsWith('.ts') ? './backtest.ts' : './backtest.js', import.meta.url);

const AXES = {
  sizing: ['fixed', 'risk', 'volatility'] as const,
  stopLoss: [0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1],
  riskPerTrade: [0.0025, 0.005, 0.01, 0.015, 0.02],
  positionSize: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1],
  takeProfit: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2],
};

/** Every configuration of the grid, in a fixed order (3 x 10 x 5 x 8 x 10 = 12,000). */
export function fullGrid(): SweepConfig[] {
  const grid: SweepConfig[] = [];
  for (const sizing of AXES.sizing)
    for (const stopLoss of AXES.stopLoss)
      for (const riskPerTrade of AXES.riskPerTrade)
        for (const positionSize of AXES.positionSize)
          for (const takeProfit of AXES.takeProfit)
            grid.push({ id: grid.length, positionSize, riskPerTrade, stopLoss, takeProfit, sizing });
  return grid;
}

/** `count` configurations drawn deterministically from the whole grid (all of it when count >= its size). */
export function sampleGrid(count: number): SweepConfig[] {
  const grid = fullGrid();
  if (count >= grid.length) return grid;
  const rand = random(7);
  for (let i = grid.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [grid[i], grid[j]] = [grid[j]!, grid[i]!];
  }
  return grid.slice(0, count).sort((a, b) => a.id - b.id);
}

/** A failed configuration and why. */
interface Failure {
  id: number;
  error: string;
}

/** Best result by `key`; ties go to the lower id, so every run picks the same one. */
function better(key: 'sharpe' | 'calmar', a: SweepResult | undefined, b: SweepResult): SweepResult {
  if (a === undefined || b[key] > a[key] || (b[key] === a[key] && b.id < a.id)) return b;
  return a;
}

/** Configurations recorded in a dead-letter file, with the error. */
function readDeadLetter(path: string): { config: SweepConfig; error: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const entry = JSON.parse(line) as { data: SweepConfig; reason: string };
      return { config: entry.data, error: entry.reason };
    });
}

interface SweepOptions {
  configs: number;
  serial: boolean;
  workers: number | 'auto';
  isolation: 'thread' | 'process';
  batchSize: number;
}

interface SweepSummary {
  configs: number;
  succeeded: number;
  failed: Failure[];
  bestSharpe: SweepResult | undefined;
  bestCalmar: SweepResult | undefined;
  seconds: number;
  workers: WorkerStats[];
  recovered: number;
}

/** Runs the sweep and reads the results back from the spill. */
async function sweep(options: SweepOptions): Promise<SweepSummary> {
  const configs = sampleGrid(options.configs);
  const dir = mkdtempSync(join(tmpdir(), 'spillway-sweep-'));
  const started = performance.now();
  const outputs: Spilled[] = [];
  const failed: Failure[] = [];
  const workers: WorkerStats[] = [];
  let recovered = 0;
  try {
    if (options.serial) {
      const { output } = await pipeline(
        fromIterable(configs, { batchSize: options.batchSize }),
        map((config: SweepConfig) => {
          try {
            return backtest(config);
          } catch (error) {
            failed.push({ id: config.id, error: (error as Error).message });
            return undefined;
          }
        }),
        toSpill({ budget: '64MB' }),
      );
      outputs.push(output);
    } else {
      const firstPass = join(dir, 'failed-batches.jsonl');
      const pass1 = await pipeline(
        fromIterable(configs, { batchSize: options.batchSize }),
        parallel(BACKTEST, {
          workers: options.workers,
          isolation: options.isolation,
          retries: 1,
          replaceOnError: false,
          timeoutMs: 60_000,
          onError: { deadLetter: firstPass },
        }),
        toSpill({ budget: '64MB' }),
      );
      outputs.push(pass1.output);
      workers.push(...(pass1.stats.workers ?? []));
      // a failed batch holds good configurations too: run those again one per batch
      const suspects = readDeadLetter(firstPass).map((entry) => entry.config);
      if (suspects.length > 0) {
        const secondPass = join(dir, 'failed-configs.jsonl');
        const pass2 = await pipeline(
          fromIterable(suspects, { batchSize: 1 }),
          parallel(BACKTEST, {
            workers: options.workers,
            isolation: options.isolation,
            retries: 0,
            replaceOnError: false,
            timeoutMs: 60_000,
            onError: { deadLetter: secondPass },
          }),
          toSpill({ budget: '64MB' }),
        );
        outputs.push(pass2.output);
        recovered = pass2.stats.rowsOut;
        for (const entry of readDeadLetter(secondPass)) failed.push({ id: entry.config.id, error: entry.error });
      }
    }
    const seconds = (performance.now() - started) / 1000;
    let bestSharpe: SweepResult | undefined;
    let bestCalmar: SweepResult | undefined;
    let succeeded = 0;
    for (const spilled of outputs) {
      for await (const row of spilled.rows()) {
        const result = row as unknown as SweepResult;
        succeeded++;
        bestSharpe = better('sharpe', bestSharpe, result);
        bestCalmar = better('calmar', bestCalmar, result);
      }
    }
    failed.sort((a, b) => a.id - b.id);
    return { configs: configs.length, succeeded, failed, bestSharpe, bestCalmar, seconds, workers, recovered };
  } finally {
    await Promise.all(outputs.map((o) => o.dispose()));
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(result: SweepResult | undefined): string {
  if (result === undefined) return 'none';
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return (
    `#${result.id}: ${result.sizing} sizing, position ${pct(result.positionSize)}, risk ${pct(result.riskPerTrade)}, ` +
    `stop ${pct(result.stopLoss)}, target ${pct(result.takeProfit)} -> Sharpe ${result.sharpe.toFixed(3)}, ` +
    `Calmar ${result.calmar.toFixed(3)}, worst Sharpe on other histories ${result.robustSharpe.toFixed(3)}, CAGR ${pct(result.cagr)}, max drawdown ${pct(result.maxDrawdown)}, ${result.trades} trades`
  );
}

const { values } = parseArgs({
  options: {
    serial: { type: 'boolean', default: false },
    workers: { type: 'string', default: 'auto' },
    configs: { type: 'string', default: '12000' },
    isolation: { type: 'string', default: 'thread' },
    'batch-size': { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
});

const options: SweepOptions = {
  serial: values.serial,
  workers: values.workers === 'auto' ? 'auto' : Number(values.workers),
  configs: Number(values.configs),
  isolation: values.isolation === 'process' ? 'process' : 'thread',
  batchSize: Number(values['batch-size']),
};
if (!Number.isInteger(options.configs) || options.configs < 1)
  throw new Error(`--configs must be a positive integer, got ${values.configs}`);

if (!values.json) {
  const how = options.serial ? 'serially in the main thread' : `in ${options.workers} ${options.isolation} worker(s)`;
  console.log(
    `Backtesting ${Math.min(options.configs, 12_000).toLocaleString()} configurations on ${BARS.toLocaleString()} daily bars ${how} ...`,
  );
}
const summary = await sweep(options);

if (values.json) {
  const pick = (r: SweepResult | undefined): unknown =>
    r === undefined ? null : { id: r.id, sharpe: r.sharpe, calmar: r.calmar };
  console.log(
    JSON.stringify({
      configs: summary.configs,
      succeeded: summary.succeeded,
      failed: summary.failed.map((f) => f.id),
      bestSharpe: pick(summary.bestSharpe),
      bestCalmar: pick(summary.bestCalmar),
      workers: summary.workers.length,
    }),
  );
} else {
  console.log(`  done in ${summary.seconds.toFixed(1)} s\n`);
  console.log(`Best by Sharpe: ${describe(summary.bestSharpe)}`);
  console.log(`Best by Calmar: ${describe(summary.bestCalmar)}`);
  console.log(
    `Success rate:   ${((summary.succeeded / summary.configs) * 100).toFixed(2)}% (${summary.succeeded} of ${summary.configs})`,
  );
  console.log(
    `Failed:         ${summary.failed.length} configuration(s)${summary.recovered > 0 ? `; ${summary.recovered} good ones from failed batches recovered by the second pass` : ''}`,
  );
  for (const f of summary.failed.slice(0, 5)) console.log(`  ${f.error}`);
  if (summary.failed.length > 5) console.log(`  ... and ${summary.failed.length - 5} more`);
  for (const w of summary.workers) {
    console.log(
      `  worker ${w.id}: ${w.batches} batches, ${w.rows} configs, ${w.failures} failures, ${w.restarts} restarts, busy ${(w.busyMs / 1000).toFixed(1)} s, ${w.rowsPerSec} configs/s`,
    );
  }
}
