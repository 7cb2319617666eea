/**
 * The cost of progress: the same pipeline (CSV in, map, drain) with `progress` on (rendering
 * plain lines to a sink stream, as off a terminal, and sampling every 250 ms) and off, measured
 * interleaved in one run in ABBA order (off, on, on, off), so that the garbage one case leaves
 * and drift do not favour either. Goal: under 3% slower.
 */
import { Writable } from 'node:stream';
import { pipeline, fromCsv, map, drain } from 'spillway';
import { ProgressTracker, resolveProgress, PROGRESS_SAMPLE_MS } from '../lib/observe/progress.ts';
import { LineRenderer } from '../lib/observe/progress-line.ts';
import { benchCsv, interleaved, type BenchRow } from './common.ts';

/** A non-terminal stream that discards what progress writes (and counts it). */
class NullLog extends Writable {
  lines = 0;
  readonly isTTY = false;
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.lines++;
    callback();
  }
}

async function run1(
  path: string,
  expected: number,
  progress: boolean,
  sink: NullLog,
  events: { n: number },
): Promise<void> {
  const { stats } = await pipeline(
    fromCsv(path, { cast: true }),
    map((row) => row),
    drain(),
    {
      governor: false,
      ...(progress ? { progress: { stream: sink, intervalMs: 1000, onProgress: () => void events.n++ } } : {}),
    },
  );
  if (stats.rowsIn !== expected) throw new Error(`bench/progress: read ${stats.rowsIn} rows, expected ${expected}`);
}

/**
 * The cost of one progress tick (sample the live stats, build the event, render the line),
 * which bounds the overhead whatever the machine's noise: ticks per second x this.
 */
function tickMicros(path: string): number {
  const streams = [fromCsv(path), map((row) => row), drain()];
  const tracker = new ProgressTracker(resolveProgress(() => {})!, {
    streams,
    governor: undefined,
    started: performance.now(),
  });
  const renderer = new LineRenderer({ isTTY: true, columns: 120, write: () => true }, 0);
  const n = 20_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) renderer.update(tracker.sample());
  const micros = ((performance.now() - started) / n) * 1000;
  for (const stream of streams) stream.destroy();
  return micros;
}

/** Measures progress on against off; one row each, the ratio against off; and the cost of a tick. */
export async function run(): Promise<BenchRow[]> {
  const data = await benchCsv();
  const mb = data.bytes / 1e6;
  const sink = new NullLog();
  const events = { n: 0 };
  const runs = await interleaved({
    off: () => run1(data.path, data.rows, false, sink, events),
    on: () => run1(data.path, data.rows, true, sink, events),
    on2: () => run1(data.path, data.rows, true, sink, events),
    off2: () => run1(data.path, data.rows, false, sink, events),
  });
  const ms: Record<string, number> = {
    off: ((runs.off as number) + (runs.off2 as number)) / 2,
    on: ((runs.on as number) + (runs.on2 as number)) / 2,
  };
  const rate = (name: string): number => data.rows / ((ms[name] as number) / 1000);
  const row = (label: string, name: string, note?: string): BenchRow => ({
    group: 'progress',
    case: label,
    rowsPerSec: rate(name),
    mbPerSec: mb / ((ms[name] as number) / 1000),
    ratio: rate(name) / rate('off'),
    note,
  });
  const micros = tickMicros(data.path);
  const share = (micros * (1000 / PROGRESS_SAMPLE_MS)) / 1e6;
  return [
    row('pipeline(fromCsv { cast }, map, drain), progress off', 'off', 'baseline'),
    row(
      'same pipeline, progress on (events + plain lines)',
      'on',
      `goal >= 0.97 of off; ${events.n} events, ${sink.lines} lines written`,
    ),
    {
      group: 'progress',
      case: 'one progress tick (sample + event + line)',
      note: `${micros.toFixed(1)} µs; at ${1000 / PROGRESS_SAMPLE_MS}/s: ${(share * 100).toFixed(4)}% of a core`,
    },
  ];
}
