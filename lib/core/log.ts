/**
 * Debug logging: one `debug` namespace per component under `spillway:` (DEBUG=spillway:*). The
 * `debug` package loads on the first log call or `enabled` check, not at import (issue 17 item
 * 8: it is ~6 MB of RSS); it is CommonJS, so it loads synchronously and is the same instance a
 * user's own `import debug from 'debug'` gets.
 *
 * Every line is terminal-safe: file names, column names and error messages come from files and
 * can hold escape sequences, so the format and each argument pass through `terminalSafe` (the
 * CLI's escaping) before `debug` formats them; its own colours stay (they are added after).
 */
import type createDebug from 'debug';
import { lazyRequire } from './lazy-require.ts';
import { terminalSafe } from '../observe/terminal-text.ts';

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
  const log = (format: string, ...args: unknown[]): void => {
    const instance = get();
    // escaping costs a copy of each argument: only for a line that prints
    if (instance.enabled) instance(terminalSafe(format), ...args.map((arg) => safeArgument(arg, 0)));
  };
  return Object.defineProperty(log, 'enabled', { get: () => get().enabled }) as Logger;
}

/**
 * `arg` with its text escaped: a string, or an error's message and stack (printed raw by `%s` and
 * `%o`; its cause and an AggregateError's errors too). Other values print through util.inspect,
 * which escapes the strings in them.
 */
function safeArgument(arg: unknown, depth: number): unknown {
  if (typeof arg === 'string') return terminalSafe(arg);
  if (depth > 3) return arg;
  if (depth > 0 && Array.isArray(arg)) return arg.map((item) => safeArgument(item, depth + 1));
  if (!(arg instanceof Error)) return arg;
  const copy = Object.create(Object.getPrototypeOf(arg) as object) as Error;
  for (const key of Reflect.ownKeys(arg)) {
    const { enumerable } = Object.getOwnPropertyDescriptor(arg, key)!;
    let value: unknown;
    try {
      value = Reflect.get(arg, key);
    } catch {
      continue;
    }
    Object.defineProperty(copy, key, {
      value: safeArgument(value, depth + 1),
      enumerable,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
