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

/** A {@link PoolWorker} on a worker thread. */
export class ThreadWorker extends PoolWorker {
  #worker: Worker | undefined;
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
    worker.unref();
    worker.on('message', (message: FromWorker) => this.handleMessage(message));
    worker.on('error', (error: Error & { code?: string }) => {
      this.handleError(error, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash');
    });
    worker.on('exit', (code) => this.handleExit(`exited with code ${code}`));
  }

  protected override post(message: ToWorker, transfer: ArrayBuffer[]): void {
    this.#worker?.postMessage(message, transfer);
  }

  protected override terminate(): void {
    void this.#worker?.terminate();
  }

  override setRef(ref: boolean): void {
    if (ref) this.#worker?.ref();
    else this.#worker?.unref();
  }
}
