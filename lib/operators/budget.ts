/**
 * How much memory an operator may hold: the user's `budget`, or else a share of the governor's
 * limit (so that a pipeline with a few operators, the readers and the writers stays under it),
 * or a fixed default when memory is not governed. Also the check for unknown option keys that
 * operator factories share.
 */
import { ValidationError } from '../core/errors.ts';
import { parseBytes, type ByteSize } from '../core/validate.ts';
import type { StageContext } from '../core/stage.ts';

/** Share of the governor's limit an operator takes when no budget is given. */
export const GOVERNOR_SHARE = 0.25;

/** Budget when there is neither a budget option nor a governor: 256 MB. */
export const UNGOVERNED_BUDGET = 256e6;

/** Parses a `budget` option (undefined stays undefined: decided when the pipeline starts). */
export function parseBudget(value: ByteSize | undefined, path = 'options.budget'): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseBytes(value, path);
  if (bytes < 1) throw new ValidationError(`Expected \`${path}\` to be at least 1 byte, got ${bytes}`);
  return bytes;
}

/** The budget of an operator in `context`: the explicit one, or a share of the governor's limit. */
export function operatorBudget(explicit: number | undefined, context: StageContext): number {
  if (explicit !== undefined) return explicit;
  const limit = (context.governor as { limit?: unknown } | undefined)?.limit;
  return typeof limit === 'number' && limit > 0 ? Math.floor(limit * GOVERNOR_SHARE) : UNGOVERNED_BUDGET;
}

/** Throws {@link ValidationError} when `options` has a key not in `allowed`. */
export function rejectUnknownKeys(options: object, allowed: readonly string[], path = 'options'): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ValidationError(`Unknown option \`${path}.${key}\` (expected ${allowed.join(', ')})`);
  }
}
