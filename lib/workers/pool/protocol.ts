/**
 * Messages between the pool and its workers (the same for threads and child processes), and how
 * errors cross the boundary: as plain objects, since class identity does not survive cloning.
 */
import { encodeUnlessCloneable } from '../../formats/records/record-codec.ts';

/** Given to a worker when it starts (workerData or environment): which module and export to load. */
export interface InitMessage {
  moduleUrl: string;
  exportName: string;
  kind: 'row' | 'batch';
}

/**
 * Runs one batch: `records` (rows encoded by lib/formats/records/record-codec.ts, which keeps what
 * a structured clone keeps and a PreciseDate's nanoseconds, which it drops), `rows` (when they
 * could not be encoded: the clone then reports why), or `arrow` (IPC stream bytes the worker decodes to rows).
 */
export interface RunMessage {
  type: 'run';
  taskId: number;
  records?: Uint8Array;
  rows?: unknown[];
  arrow?: Uint8Array;
}

/** Asks a child process to exit cleanly (recycling). */
export interface ExitMessage {
  type: 'exit';
}

/** Parent to worker. */
export type ToWorker = RunMessage | ExitMessage;

/** An error as plain data. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Worker to parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  /** The thread finished importing what a batch needed (the Arrow decoder): it may be terminated now. */
  | { type: 'loaded' }
  | { type: 'result'; taskId: number; records?: Uint8Array; rows?: unknown[] }
  | { type: 'error'; taskId: number; error: SerializedError };

/**
 * Rows as record-codec bytes of their own (see RunMessage), or undefined when the message's own
 * clone carries them exactly and cheaper, or cannot carry them (it then reports why).
 */
export function encodedRows(rows: readonly unknown[]): Uint8Array | undefined {
  try {
    const bytes = encodeUnlessCloneable(rows);
    return bytes && standalone(bytes);
  } catch {
    return undefined;
  }
}

/** `bytes` as a view of a whole ArrayBuffer of its own, which can move to a thread (copied when it is not one). */
export function standalone(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
}

/**
 * What a worker calls for `exportName` of the imported module `mod`: the export if it is a
 * function, else (a CommonJS module seen from ESM) the function of that name on `default`, or an
 * object's `default` function; undefined when none is. The pool's workers and `spillway worker`'s
 * check at start agree through this one rule.
 */
export function exportedFunction(mod: Record<string, unknown>, exportName: string): unknown {
  let value = mod[exportName];
  if (typeof value !== 'function' && exportName !== 'default')
    value = (mod.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof value === 'object' && value !== null && typeof (value as { default?: unknown }).default === 'function')
    value = (value as { default: unknown }).default;
  return typeof value === 'function' ? value : undefined;
}

/** The export names of `mod` for which {@link exportedFunction} finds a function. */
export function functionExports(mod: Record<string, unknown>): string[] {
  const fromDefault = typeof mod.default === 'object' && mod.default !== null ? Object.keys(mod.default as object) : [];
  const names = new Set([...Object.keys(mod), ...fromDefault]);
  return [...names].filter((name) => exportedFunction(mod, name) !== undefined);
}

/** Error to plain data (keeps name, message, stack and a string `code`). */
export function serializeError(value: unknown): SerializedError {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: typeof value === 'string' ? value : `Non-error thrown: ${String(value)}` };
}

/** Plain data back to an Error whose stack is the worker's. */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  if (data.code !== undefined) (error as Error & { code?: string }).code = data.code;
  return error;
}
