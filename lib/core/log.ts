/**
 * Debug logging: one `debug` namespace per component under `spillway:` (DEBUG=spillway:*). The
 * `debug` package loads on the first log call or `enabled` check, not at import (issue 17 item
 * 8: it is ~6 MB of RSS); it is CommonJS, so it loads synchronously and is the same instance a
 * user's own `import debug from 'debug'` gets.
 */
import type createDebug from 'debug';
import { lazyRequire } from './lazy-require.ts';

const loadDebug = lazyRequire<typeof createDebug>('debug');

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

/** A `debug` logger under the `spillway:` namespace, made on first use. */
export function logger(component: string): Logger {
  let instance: ((format: string, ...args: unknown[]) => void) & { enabled: boolean };
  const get = (): typeof instance => (instance ??= loadDebug()(`spillway:${component}`));
  const log = (format: string, ...args: unknown[]): void => get()(format, ...args);
  return Object.defineProperty(log, 'enabled', { get: () => get().enabled }) as Logger;
}
