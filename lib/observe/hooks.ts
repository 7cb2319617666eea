/**
 * The process-wide start and end hooks (`setPipelineDefaults`, what `spillway run` uses to see
 * every pipeline of a user's script) as a run observer. The smallest observer: copy it to add one.
 */
import type { RunEnd, RunObserver } from '../core/observer.ts';
import type { PipelineDefaults } from '../core/defaults.ts';

/** Calls the hooks in `defaults` when a run starts and ends. */
export function hooksObserver(defaults: Readonly<Pick<PipelineDefaults, 'onStart' | 'onEnd'>>): RunObserver {
  return {
    name: 'hooks',
    start: () => defaults.onStart?.(),
    end: (end: RunEnd) => defaults.onEnd?.(end),
  };
}
