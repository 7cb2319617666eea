/**
 * A pool worker on a worker thread, started as module-thread.ts starts any module (with tsx's
 * loaders registered in the thread for TypeScript).
 */
import type { Worker } from 'node:worker_threads';
import { entryUrl, PoolWorker } from './pool-worker.ts';
import { startModuleThread, tsxFor, tsxForModule } from './module-thread.ts';
import { readyBundle } from './entry-bundle.ts';
import { HeapReport } from './heap-report.ts';
import type { FromWorker, InitMessage, ToWorker } from './protocol.ts';

/** Options of a thread worker. */
export interface ThreadWorkerOptions {
  /** V8 old-generation limit in bytes (resourceLimits); ArrayBuffers are not counted. */
  memoryLimit?: number;
}

/**
 * How long a kill waits for a thread still loading its modules before it terminates it anyway
 * (a module whose top level never returns).
 */
const LOAD_GRACE_MS = 5_000;

/** A {@link PoolWorker} on a worker thread. */
export class ThreadWorker extends PoolWorker {
  #worker: Worker | undefined;
  /** Settles once the thread has imported what it is importing (see terminate) or exited. */
  #loaded: Promise<void> = Promise.resolve();
  #markLoaded: (() => void) | undefined;
  /** A batch in Arrow was posted: the thread imports its Arrow decoder with the first. */
  #arrowPosted = false;
  readonly #options: ThreadWorkerOptions;
  readonly #heap: HeapReport | undefined;

  constructor(id: string, options: ThreadWorkerOptions = {}) {
    super(id);
    this.#options = options;
    this.#heap = options.memoryLimit === undefined ? undefined : new HeapReport();
  }

  /** True when the thread's last reported heap is at its memory limit (see heap-report.ts). */
  override atMemoryLimit(): boolean {
    const limit = this.#options.memoryLimit;
    return limit !== undefined && this.#heap !== undefined && this.#heap.nearLimit(limit);
  }

  /** The thread's last reported used heap in bytes, when it has a memory limit. */
  override get heapUsed(): number | undefined {
    return this.#heap?.used;
  }

  override get pid(): number | undefined {
    return undefined;
  }

  override get threadId(): number | undefined {
    return this.#worker?.threadId;
  }

  protected override spawn(init: InitMessage): void {
    const limit = this.#options.memoryLimit;
    const moduleUrl = new URL(init.moduleUrl);
    // from source the entry is bundled to JavaScript (entry-bundle.ts): tsx only for a TypeScript module
    const bundle = readyBundle(entryUrl());
    const worker = startModuleThread(
      entryUrl(),
      {
        init,
        ...(bundle === undefined ? {} : { bundle }),
        ...(this.#heap === undefined ? {} : { heap: this.#heap.buffer }),
      },
      bundle === undefined ? tsxFor(moduleUrl) : tsxForModule(moduleUrl),
      limit === undefined
        ? {}
        : { resourceLimits: { maxOldGenerationSizeMb: Math.max(8, Math.floor(limit / 1024 / 1024)) } },
    );
    this.#worker = worker;
    this.#expectLoad();
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready' || message.type === 'init-error' || message.type === 'loaded') this.#markLoaded?.();
      this.handleMessage(message);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      this.handleError(error, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash');
    });
    worker.on('exit', (code) => {
      this.#markLoaded?.();
      this.handleExit(`exited with code ${code}`);
    });
  }

  protected override post(message: ToWorker, transfer: ArrayBuffer[]): void {
    if (message.type === 'run' && message.arrow !== undefined && !this.#arrowPosted) {
      this.#arrowPosted = true;
      this.#expectLoad();
    }
    this.#worker?.postMessage(message, transfer);
  }

  /** The thread is about to import modules: a kill waits for its 'loaded' (or ready) first. */
  #expectLoad(): void {
    this.#loaded = new Promise<void>((resolve) => {
      this.#markLoaded = resolve;
    });
  }

  /**
   * Terminates the thread; one still importing modules (the user's module before it is ready,
   * the Arrow decoder with its first Arrow batch) is let finish first, up to LOAD_GRACE_MS: Node
   * 20 leaves the descriptors of the module files it was reading open when a thread is
   * terminated during its imports (a user module importing apache-arrow, aborted as the pool
   * started, left 20-60 descriptors a run; 922 after 40 runs).
   */
  protected override terminate(): void {
    const worker = this.#worker;
    if (worker === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, LOAD_GRACE_MS);
    });
    void Promise.race([this.#loaded, grace]).then(() => {
      clearTimeout(timer);
      void worker.terminate();
    });
  }

  override setRef(ref: boolean): void {
    if (ref) this.#worker?.ref();
    else this.#worker?.unref();
  }
}
