/**
 * `openSpill` as the main entry offers it: the same function, with the spill reader (and
 * apache-arrow) loaded on first call rather than when spillway is imported.
 */
import type { OpenSpillOptions, Spilled } from './spilled.ts';

/**
 * Opens a spill directory written by `toSpill` (in this or any process) for replay. Checks the
 * manifest, refuses file names outside the directory and files that are missing; each file's
 * checksums are verified when it is first read. The directory is never removed unless
 * `dispose({ remove: true })`. Throws SpillError.
 *
 * @param dir the spill directory
 * @param options see {@link OpenSpillOptions}
 */
export async function openSpill(dir: string, options?: OpenSpillOptions): Promise<Spilled> {
  const { openSpill: open } = await import('./spilled.ts');
  return open(dir, options);
}
