/**
 * One supervised worker, thread or child process, as the pool sees it: start, run one batch at a
 * time, kill with a reason. Subclasses only spawn, post and terminate; the bookkeeping of the
 * running batch and of how the worker ended lives here, once.
 */
import { fileURLToPath } from 'node:url';
import { ownModule } from '../../core/own-module.ts';
import { deserializeError } from './protocol.ts';
import { decodeRecords } from '../../formats/records/record-codec.ts';
import type { FromWorker, InitMessage, ToWorker } from './protocol.ts';
import type { WorkerFailureReason } from '../../core/errors.ts';

/** Why a worker stopped running a batch. */
export class WorkerFailure extends Error {
  /** The kind of failure. */
  readonly reason: WorkerFailureReason;
  constructor(reason: WorkerFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerFailure';
    this.reason = reason;
  }
}

interface Running {
  taskId: number;
  resolve: (rows: unknown[]) => void;
  reject: (failure: WorkerFailure) => void;
}

/** The script workers run (worker-entry.ts from source, worker-entry.js once built). */
export function entryUrl(): URL {
  return ownModule('lib/workers/pool/worker-entry');
}

/** The entry as a path, for `fork`. */
export function entryPath(): string {
  return fileURLToPath(entryUrl());
}

/** Base of {@link ThreadWorker} and {@link ProcessWorker}. */
export abstract class PoolWorker {
  /** Stable within the pool: `<slot>.<generation>`. */
  readonly id: string;
  /** Batches this worker finished (successfully or not). */
  tasks = 0;
  /** Why the worker ended, once it did. */
  exitReason: WorkerFailureReason | 'recycle' | undefined;
  #running: Running | undefined;
  #killReason: WorkerFailureReason | 'recycle' | undefined;
  #ready: { resolve: () => void; reject: (failure: WorkerFailure) => void } | undefined;
  #exited: Promise<void>;
  #markExited!: () => void;
  #lastError: Error | undefined;
  /** Called once when the worker is gone, for whatever reason. */
  onExit: ((worker: PoolWorker) => void) | undefined;

  constructor(id: string) {
    this.id = id;
    this.#exited = new Promise((resolve) => {
      this.#markExited = resolve;
    });
  }

  /** OS process id (children only). */
  abstract get pid(): number | undefined;
  /** Thread id (threads only). */
  abstract get threadId(): number | undefined;
  /** True while a batch runs. */
  get busy(): boolean {
    return this.#running !== undefined;
  }
  /** True once the worker has exited. */
  exited = false;

  protected abstract spawn(init: InitMessage): void;
  protected abstract post(message: ToWorker, transfer: ArrayBuffer[]): void;
  /** Ends the worker now; `exit` must follow. */
  protected abstract terminate(): void;
  /** Lets the worker keep (true) or not keep (false) the parent's event loop alive. */
  abstract setRef(ref: boolean): void;

  /**
   * True when the worker is known to be at its memory limit (threads report their heap): a batch
   * timing out then fails as `memory`. False when unknown.
   */
  atMemoryLimit(): boolean {
    return false;
  }

  /** The worker's last known used heap in bytes, where it reports one. */
  get heapUsed(): number | undefined {
    return undefined;
  }

  /** Spawns the worker and resolves once the user module has loaded. */
  start(init: InitMessage): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.spawn(init);
    // keep the event loop alive while someone waits for this worker; idle workers are unref'd
    this.setRef(true);
    return ready;
  }

  /**
   * Runs one batch: rows, or Arrow IPC bytes. Rejects with a {@link WorkerFailure}; the worker is
   * unusable after any failure.
   */
  run(
    taskId: number,
    payload: { records: Uint8Array } | { rows: unknown[] } | { arrow: Uint8Array },
    transfer: ArrayBuffer[],
  ): Promise<unknown[]> {
    if (this.#running !== undefined) throw new Error(`worker ${this.id} is busy`);
    if (this.exited) return Promise.reject(new WorkerFailure('crash', `worker ${this.id} has exited`));
    return new Promise<unknown[]>((resolve, reject) => {
      this.#running = { taskId, resolve, reject };
      this.setRef(true);
      try {
        this.post({ type: 'run', taskId, ...payload }, transfer);
      } catch (error) {
        // nothing was sent: the worker stays usable, and the batch's own values are the cause
        this.#running = undefined;
        reject(
          new WorkerFailure(
            'error',
            `batch ${taskId} cannot be sent to a worker: ${(error as Error).message} (a row holds a value a structured clone cannot copy: a function, a symbol, a WeakMap, a Promise)`,
            { cause: error },
          ),
        );
      }
    });
  }

  /** Kills the worker; a running batch fails with `reason`. Resolves when it has exited. */
  kill(reason: WorkerFailureReason | 'recycle'): Promise<void> {
    if (!this.exited) {
      this.#killReason ??= reason;
      // whoever awaits the exit needs the event loop alive until it comes
      this.setRef(true);
      this.terminate();
    }
    return this.#exited;
  }

  /** Resolves when the worker has exited. */
  get exitedPromise(): Promise<void> {
    return this.#exited;
  }

  /** Subclasses call this for every message. */
  protected handleMessage(message: FromWorker): void {
    if (message.type === 'loaded') return;
    if (message.type === 'ready') {
      this.#idle();
      this.#ready?.resolve();
      this.#ready = undefined;
    } else if (message.type === 'init-error') {
      this.#ready?.reject(
        new WorkerFailure('start', `worker ${this.id} could not load the module: ${message.error.message}`, {
          cause: deserializeError(message.error),
        }),
      );
      this.#ready = undefined;
      this.kill('start').catch(() => {});
    } else {
      const running = this.#running;
      if (running === undefined || running.taskId !== message.taskId) return;
      this.#running = undefined;
      this.tasks++;
      this.#idle();
      if (message.type === 'result')
        running.resolve(message.records ? decodeRecords(message.records) : (message.rows ?? []));
      else
        running.reject(new WorkerFailure('error', message.error.message, { cause: deserializeError(message.error) }));
    }
  }

  /**
   * An idle worker no longer keeps the event loop alive, unless it is being killed: a message
   * already on its way (a late 'ready') must not unref a worker whose exit someone awaits, or
   * the process could end before the exit arrives and leave that promise pending.
   */
  #idle(): void {
    if (this.#killReason === undefined && !this.exited) this.setRef(false);
  }

  /** Subclasses call this for an error the worker raised (uncaught exception, out of memory). */
  protected handleError(error: Error, reason: WorkerFailureReason = 'crash'): void {
    this.#lastError = error;
    // running out of memory is what the worker did, whatever we were killing it for: a thread
    // thrashing near its heap limit often passes its timeout first, and the out-of-memory error
    // arriving after that kill is the real cause
    if (reason === 'memory' && (this.#killReason === 'timeout' || this.#killReason === undefined))
      this.#killReason = 'memory';
    else this.#killReason ??= reason;
  }

  /** Subclasses call this exactly once when the worker is gone. */
  protected handleExit(description: string): void {
    if (this.exited) return;
    this.exited = true;
    const reason = this.#killReason ?? 'crash';
    this.exitReason = reason;
    const cause = this.#lastError ?? new Error(`worker ${this.id} ${description}`);
    if (this.#ready !== undefined) {
      this.#ready.reject(
        new WorkerFailure(
          reason === 'recycle' ? 'closed' : reason,
          `worker ${this.id} ${description} before it was ready`,
          { cause },
        ),
      );
      this.#ready = undefined;
    }
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) {
      this.tasks++;
      const failure = reason === 'recycle' ? 'closed' : reason;
      running.reject(
        new WorkerFailure(
          failure,
          `worker ${this.id} ${describeReason(failure)} while running batch ${running.taskId} (${description})`,
          { cause },
        ),
      );
    }
    this.#markExited();
    this.onExit?.(this);
  }
}

function describeReason(reason: WorkerFailureReason): string {
  switch (reason) {
    case 'crash':
      return 'crashed';
    case 'memory':
      return 'ran out of memory';
    case 'timeout':
      return 'timed out';
    case 'error':
      return 'failed';
    case 'start':
      return 'failed to start';
    case 'closed':
      return 'was stopped';
  }
}
