/**
 * glibc's allocator, tuned and trimmed through spillway's native helper (native/allocator.c,
 * built on install by native/build.mjs). Memory a pipeline has freed is kept by glibc as RSS:
 * it raises its mmap threshold after large frees, so later buffers come from arenas that are
 * rarely trimmed. At a 256 MB governor limit, `fromParquet(4 files, 1M rows) -> groupBy(symbol,
 * ts) -> toParquet` passed the critical mark in 8 of 8 runs with 17-24 MB of V8 heap in use and
 * ~80-118 MB of RSS that neither the heap nor external memory explained; with the thresholds
 * fixed at 128 KB it finished in 3 of 3. Fixed thresholds cost CPU where memory is plentiful
 * (more mmap calls, fresh zeroed pages; the README's CSV -> Parquet measured slower, inside the
 * noise) and help only near the limit, so a
 * governor fixes them ({@link tuneAllocator}) when its level first leaves `ok`, and before it
 * pauses or gives up it trims the arenas after its collection ({@link trimAllocator}). A spill
sink does both too, once it first spills and after each collection its pacer runs
(lib/formats/spill/gc-pacer.ts): there memory is bounded by the user's own budget.
 *
 * Loaded on first use, never at import. Without the helper (not Linux, no compiler at install,
 * musl) both calls do nothing and {@link allocatorState} says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The glibc mmap and trim threshold the helper sets: glibc's own starting value, kept fixed. */
export const MALLOC_THRESHOLD = 128 * 1024;

interface Helper {
  trim(): boolean;
  tune(bytes: number): boolean;
}

const BINARY = join('lib', 'memory', 'native', 'build', 'Release', 'spillway_allocator.node');

let helper: Helper | undefined;
let state: string | undefined;
let tuned = false;

/** The package root holding the built helper, searched up from this module (source, dist or a test build). */
function binaryPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, BINARY);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

function load(): Helper | undefined {
  if (state !== undefined) return helper;
  if (process.platform !== 'linux') {
    state = `unavailable: it wraps glibc, and this is ${process.platform}`;
    return undefined;
  }
  const path = binaryPath();
  if (path === undefined) {
    state = 'unavailable: the native helper was not built at install (see docs/governor.md)';
    return undefined;
  }
  try {
    helper = createRequire(import.meta.url)(path) as Helper;
    state = 'loaded';
  } catch (error) {
    state = `unavailable: ${(error as Error).message}`;
  }
  return helper;
}

/**
 * Fixes glibc's mmap and trim thresholds at {@link MALLOC_THRESHOLD}, once per process. True
 * when they are set (now or before); false without the helper or off glibc.
 */
export function tuneAllocator(): boolean {
  if (tuned) return true;
  const h = load();
  if (h === undefined) return false;
  tuned = h.tune(MALLOC_THRESHOLD);
  state = tuned ? 'tuned' : 'loaded: mallopt refused the thresholds (not glibc?)';
  return tuned;
}

/** Returns the free pages of glibc's arenas to the system; true when some were. */
export function trimAllocator(): boolean {
  return load()?.trim() ?? false;
}

/** `tuned`, `loaded` (not needed yet), or `unavailable: why`: what the helper does in this process. */
export function allocatorState(): string {
  load();
  return state!;
}
