/**
 * `inspectArrow` as the main entry offers it: the same function, with apache-arrow loaded on
 * first call rather than when spillway is imported.
 */
import type { ArrowInspection, InspectArrowOptions } from './inspect.ts';

/**
 * Describes an Arrow IPC file or stream: its format, schema, batches and compression (see
 * `lib/formats/arrow/inspect.ts`).
 *
 * @param path the file
 * @param options see {@link InspectArrowOptions}
 */
export async function inspectArrow(path: string, options?: InspectArrowOptions): Promise<ArrowInspection> {
  const { inspectArrow: inspect } = await import('./inspect.ts');
  return inspect(path, options);
}
