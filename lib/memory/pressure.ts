/**
 * What the governor says when it gives up: the critical mark passed, or a pause that outlasted
 * `maxPauseMs`. Each message names what the pressure is and what holds the memory.
 */
import { MemoryLimitError } from '../core/errors.ts';
import { formatBytes } from '../core/format.ts';
import { describeBreakdown } from './breakdown.ts';
import { heapPressure } from './sample.ts';
import type { MemorySample, MemorySummary } from './types.ts';

/** What the pressure is: the heap against what it can fill, or memory against the limit. */
export function pressureText(sample: MemorySample, limit: number): string {
  const heapBound = sample.heapUsable > 0 && heapPressure(sample.heapUsed, sample.heapUsable) >= sample.total / limit;
  return heapBound
    ? `V8 heap ${formatBytes(sample.heapUsed)} used of the ${formatBytes(sample.heapUsable)} it can fill before V8 aborts`
    : `${formatBytes(sample.total)} of a ${formatBytes(limit)} limit`;
}

/** The error of passing the critical mark (with `onCritical: 'abort'`). */
export function criticalError(
  sample: MemorySample,
  limit: number,
  critical: number,
  summary: MemorySummary,
): MemoryLimitError {
  return new MemoryLimitError(
    `Memory passed the critical mark: ${pressureText(sample, limit)} (${Math.round(sample.fraction * 100)}%, critical at ${Math.round(critical * 100)}%). Held by: ${describeBreakdown(sample)}`,
    summary,
  );
}

/** The error of a pause that lasted `maxPauseMs` without memory going below `resume`. */
export function stuckError(
  sample: MemorySample,
  limit: number,
  pause: { pausedMs: number; maxPauseMs: number; resume: number },
  summary: MemorySummary,
): MemoryLimitError {
  return new MemoryLimitError(
    `Memory stayed above the resume mark for ${Math.round(pause.pausedMs / 1000)} s (options.maxPauseMs ${pause.maxPauseMs}): ${pressureText(sample, limit)}` +
      ` (${Math.round(sample.fraction * 100)}%, resume below ${Math.round(pause.resume * 100)}%). Held by: ${describeBreakdown(sample)}. ` +
      'Nothing was released while the sources were paused: data kept by user code (a leak), or a limit too low for the data in flight',
    summary,
  );
}
