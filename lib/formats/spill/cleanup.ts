/**
 * Removes temporary spill directories when the process exits normally. One `exit` listener for
 * all of them (removal must be synchronous there); directories leave the set when disposed.
 */
import { rmSync } from 'node:fs';

const dirs = new Set<string>();
let listening = false;

function removeAll(): void {
  removeSpillDirsSync();
}

/**
 * Removes every registered spill directory now, synchronously: for exit and for a signal handler
 * about to end the process (lib/signals.ts), where 'exit' listeners do not run. Returns how many.
 */
export function removeSpillDirsSync(): number {
  let n = 0;
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
      n++;
    } catch {
      // exiting: nothing useful to do with the failure
    }
  }
  dirs.clear();
  return n;
}

/** Removes `dir` (recursively) when the process exits, unless {@link forgetOnExit} is called first. */
export function removeOnExit(dir: string): void {
  dirs.add(dir);
  if (!listening) {
    listening = true;
    process.on('exit', removeAll);
  }
}

/** Stops removing `dir` on exit. */
export function forgetOnExit(dir: string): void {
  dirs.delete(dir);
}
