/**
 * The stages a run has taken: each is a stream and runs once. A stage handed to a second run read
 * nothing or hung, so a pipeline and a join's right input refuse one a run took before.
 */
import { ValidationError } from './errors.ts';
import { isStage, STAGE } from './stage.ts';

const used = new WeakSet<object>();

/** True when a run took `stage` before. */
export function wasUsed(stage: object): boolean {
  return used.has(stage);
}

/** Notes that a run takes `stage`. */
export function markUsed(stage: object): void {
  used.add(stage);
}

/**
 * Takes the spillway stages among `streams` for a join's right input (or another reader of a
 * chain): throws a ValidationError naming the first one a run took before, else marks them all.
 * @param what names the reader in the error (`The join's right input`)
 */
export function takeStages(streams: readonly unknown[], what: string): void {
  for (const [i, stream] of streams.entries()) {
    if (!isStage(stream) || !used.has(stream)) continue;
    const { name } = stream[STAGE].stats;
    throw new ValidationError(
      `${what}: stage ${i + 1} (${name}) was used in a pipeline before: a stage is a stream and runs once, and read again it gives no rows; create it again (call ${name}(...) anew)`,
    );
  }
  for (const stream of streams) if (isStage(stream)) used.add(stream);
}
