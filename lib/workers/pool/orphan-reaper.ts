/**
 * Kills the pool's forked children when this process dies without doing it (SIGKILL, the OOM
 * killer). A child exits when its IPC channel closes, but only once its event loop turns: a child
 * blocked in user code (a hang, a long synchronous loop) outlived a SIGKILLed parent for as long
 * as it blocked. A small `sh` process reads a pipe from this process, one line per child started
 * (`+ pid`) or gone (`- pid`); at end of file, which the kernel delivers however this process
 * ends, it SIGKILLs the children still listed. It runs only while a child does (about 1 MB), so a
 * process with no child has none. Not on Windows, where children keep only the channel's exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { logger } from '../../core/stage.ts';

const debug = logger('pool');

// pids are kept as shell variables p_<pid>; at end of input the ones still set are killed
const SCRIPT = [
  'while read -r op pid; do',
  '  case $pid in *[!0-9]*|"") continue;; esac',
  '  if [ "$op" = + ]; then eval "p_$pid=1"; else unset "p_$pid"; fi',
  'done',
  'for pid in $(set | sed -n \'s/^p_\\([0-9][0-9]*\\)=.*/\\1/p\'); do kill -9 "$pid" 2>/dev/null; done',
].join('\n');

class OrphanReaper {
  #process: ChildProcess | undefined;
  readonly #live = new Set<number>();

  /** Lists a child just forked. */
  add(pid: number): void {
    if (process.platform === 'win32' || this.#live.has(pid)) return;
    this.#live.add(pid);
    this.#started()?.stdin?.write(`+ ${pid}\n`);
  }

  /** Unlists a child that exited; the reaper ends with the last one. */
  remove(pid: number): void {
    if (!this.#live.delete(pid)) return;
    const reaper = this.#process;
    if (reaper === undefined) return;
    reaper.stdin?.write(`- ${pid}\n`);
    if (this.#live.size === 0) {
      this.#process = undefined;
      reaper.stdin?.end();
    }
  }

  #started(): ChildProcess | undefined {
    if (this.#process !== undefined) return this.#process;
    const reaper = spawn('/bin/sh', ['-c', SCRIPT], {
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    reaper.on('error', (error) => {
      // no /bin/sh: children still exit when their channel closes, once their loop turns
      debug('orphan reaper unavailable: %s', error.message);
      if (this.#process === reaper) this.#process = undefined;
    });
    reaper.stdin?.on('error', () => undefined);
    // it must not keep this process alive: its job starts when this process is gone
    reaper.unref();
    (reaper.stdin as { unref?: () => void } | null)?.unref?.();
    this.#process = reaper;
    return reaper;
  }
}

/** This thread's reaper of forked pool children (see the module comment). */
export const orphanReaper = new OrphanReaper();
