/** Debug logging: one `debug` namespace per component under `spillway:` (DEBUG=spillway:*). */
import createDebug from 'debug';

/**
 * What {@link logger} returns: a printf-style log function (`%s`, `%d`, `%o`) that prints only when
 * `DEBUG=spillway:*` names it. Declared here rather than as `debug`'s own type, so the published
 * declarations do not import `debug`'s types (consumers have no `@types/debug`).
 */
export interface Logger {
  (format: string, ...args: unknown[]): void;
  /** True when `DEBUG` enables this namespace. */
  readonly enabled: boolean;
}

/** A `debug` logger under the `spillway:` namespace. */
export function logger(component: string): Logger {
  return createDebug(`spillway:${component}`);
}
