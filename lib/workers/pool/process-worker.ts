/**
 * A pool worker in a forked child process: its memory is its own, so a hard cap (SIGKILL above a
 * resident-set limit, checked by the pool) and recycling really return memory to the system.
 * Messages use the 'advanced' serialization (structured clone), so typed arrays, Dates, Maps and
 * BigInts cross intact. The child exits when its IPC channel closes, and the orphan reaper kills
 * it if it is blocked then, so it never outlives us.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { orphanReaper } from './orphan-reaper.ts';
import { PoolWorker, entryPath } from './pool-worker.ts';
import { tsxFor } from './module-thread.ts';
import type { FromWorker, InitMessage, ToWorker } from './protocol.ts';

/** A {@link PoolWorker} in a child process. */
export class ProcessWorker extends PoolWorker {
  #child: ChildProcess | undefined;

  override get pid(): number | undefined {
    return this.#child?.pid;
  }

  override get threadId(): number | undefined {
    return undefined;
  }

  protected override spawn(init: InitMessage): void {
    const tsx = tsxFor(new URL(init.moduleUrl));
    const child = fork(entryPath(), [], {
      execArgv: tsx === undefined ? [] : ['--import', tsx.loader],
      env: { ...process.env, SPILLWAY_POOL_INIT: JSON.stringify(init) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    const pid = child.pid;
    if (pid !== undefined) orphanReaper.add(pid);
    this.setRef(false);
    child.on('message', (message: FromWorker) => this.handleMessage(message));
    child.on('error', (error) => {
      this.handleError(error);
      // a failed spawn emits no 'exit'
      if (child.pid === undefined) this.handleExit('could not be spawned');
    });
    child.on('exit', (code, signal) => {
      if (pid !== undefined) orphanReaper.remove(pid);
      this.handleExit(signal ? `was killed by ${signal}` : `exited with code ${code}`);
    });
  }

  protected override post(message: ToWorker): void {
    const child = this.#child;
    if (child?.connected)
      child.send(message, (error) => {
        if (error) {
          this.handleError(error);
          this.terminate();
        }
      });
  }

  /** SIGKILL: nothing in the child is worth waiting for (an idle recycled child has no state to save). */
  protected override terminate(): void {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  override setRef(ref: boolean): void {
    const child = this.#child;
    if (!child) return;
    const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (ref) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }
}
