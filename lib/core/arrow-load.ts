/**
 * Loads the Arrow conversions (and with them apache-arrow) on first need: the stream adapters
 * call {@link ensureArrowKernels} for a batch that holds Arrow, so importing spillway stays light
 * (issue 17 item 8) while a batch never meets an empty slot (lib/core/arrow-kernels.ts).
 */
import { hasArrowKernels } from './arrow-kernels.ts';
import { lazyImport } from './lazy-import.ts';

const convert = lazyImport(() => import('../formats/arrow/convert.ts'));

/** Loads the Arrow conversions once; resolves at once when they already have. */
export async function loadArrowKernels(): Promise<void> {
  if (!hasArrowKernels()) await convert.load();
}

/**
 * Undefined when `batch` can be handled now (it holds no Arrow, or the conversions have loaded),
 * else the promise of their load: a synchronous path stays synchronous after the first time.
 */
export function ensureArrowKernels(batch: { readonly hasArrow: boolean }): Promise<void> | undefined {
  return batch.hasArrow && !hasArrowKernels() ? loadArrowKernels() : undefined;
}
