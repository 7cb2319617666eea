/**
 * A pool worker on a worker thread. TypeScript support: tsx's loader is registered inside the
 * thread before the entry loads (`--import tsx` in a Worker's execArgv does not apply hooks to the
 * thread on Node 20), which works the same on Node 20, 22 and 24.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { entryUrl, PoolWorker, tsxFor, tsxForModule } from './pool-worker.ts';
import { readyBundle } from './entry-bundle.ts';
import { HeapReport } from './heap-report.ts';
import type { FromWorker, InitMessage, ToWorker } from './protocol.ts';

// Runs in the new thread as a script or as a module (the parent may run with --input-type=module),
// so it uses only dynamic import(): register tsx when needed, then load the entry.
const BOOTSTRAP = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.tsx) {
    (await import(workerData.tsx.esm)).register();
    (await import(workerData.tsx.cjs)).register();
  }
  await import(workerData.bundle ?? workerData.entry);
})();
`;

/**
 * Starts a worker thread that loads the module `entry` (TypeScript through tsx when `tsx` is
 * given, see `tsxFor`; or `data.bundle`, a data: URL of the entry bundled to JavaScript, in its
 * place), with `data`'s fields in its workerData beside `entry` and `tsx`.
 */
export function startModuleThread(
  entry: URL,
  data: Record<string, unknown>,
  tsx: ReturnType<typeof tsxFor>,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> = {},
): Worker {
  return new Worker(BOOTSTRAP, { ...options, eval: true, workerData: { ...data, entry: entry.href, tsx } });
}

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
