/** Debug logging: one `debug` namespace per component under `spillway:` (DEBUG=spillway:*). */
import createDebug from 'debug';

/** A logger: call it like `printf`; silent unless its namespace is enabled. */
export type Logger = (format: string, ...args: unknown[]) => void;

/** A `debug` logger under the `spillway:` namespace. */
export function logger(component: string): Logger {
  return createDebug(`spillway:${component}`);
}
