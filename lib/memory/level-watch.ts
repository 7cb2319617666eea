/**
 * Lets an operator or a spill sink hear the governor's level changes. A paused pipeline sends no batches, so
 * an operator that only checked the level on each batch would never free its table while the
 * sources wait for memory to come back: with this it spills at once when the level rises.
 */
import type { GovernorGate } from '../core/stage.ts';

/** Calls `listener` on each level change of `gate` (its `onLevel`, else an EventEmitter `level` event); returns the unsubscribe. */
export function watchLevels(gate: GovernorGate | undefined, listener: (level: string) => void): () => void {
  if (!gate) return () => {};
  if (typeof gate.onLevel === 'function') return gate.onLevel(listener);
  const emitter = gate as unknown as {
    on?: (event: string, l: (level: string) => void) => void;
    off?: (event: string, l: (level: string) => void) => void;
  };
  if (typeof emitter.on === 'function' && typeof emitter.off === 'function') {
    emitter.on.call(gate, 'level', listener);
    return () => emitter.off!.call(gate, 'level', listener);
  }
  return () => {};
}
