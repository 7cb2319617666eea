/**
 * Maps an async iterable of batches through a backend with a bounded window: at most `window`
 * batches are running or waiting to be emitted. Ordered (default), results leave in input order,
 * so one slow batch holds the window and the source is not read further (backpressure, never
 * unbounded buffering); unordered, they leave as they complete. The source is pulled while results
 * are being waited for, and results are emitted while the source is slow.
 */
import { AbortError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectBoolean, expectInteger, expectSignal } from '../../core/validate.ts';
import { isArrowInput } from './backend.ts';
import type { BatchInput, BatchRunner } from './backend.ts';

/** One batch going into the pool: its id (task id, used in errors) and rows (or an Arrow batch). */
export interface BatchTask<I extends BatchInput = unknown[]> {
  id: number;
  rows: I;
}

/** One batch out of the pool: the id, the output rows and the input it came from. */
export interface BatchResult<T extends BatchTask<BatchInput> = BatchTask> {
  id: number;
  rows: unknown[];
  input: T;
}

/** Options of {@link mapBatchesInPool}. */
export interface MapBatchesOptions {
  /** Emit in input order (default true). */
  ordered?: boolean;
  /** Most batches running plus waiting to be emitted. Default 4. */
  window?: number;
  /** Stops reading and rejects with an AbortError whose cause is `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * The window's state: batches running, results waiting to be emitted (by sequence number when
 * ordered, in completion order otherwise), the source's state and the first failure. Callbacks
 * of the runner and the source only record what happened and wake the consumer.
 */
class BatchWindow<T extends BatchTask<BatchInput>> {
  private readonly done = new Map<number, BatchResult<T>>();
  private readonly completed: BatchResult<T>[] = [];
  private nextSeq = 0;
  private nextEmit = 0;
  private inFlight = 0;
  sourceDone = false;
  pulling = false;
  failed = false;
  error: unknown;
  private signalled = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly runner: BatchRunner<T['rows']>,
    private readonly iterator: AsyncIterator<T> | Iterator<T>,
    private readonly ordered: boolean,
    private readonly size: number,
  ) {}

  private notify(): void {
    this.signalled = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Records the first failure (later ones are consequences) and wakes the consumer. */
  fail(reason: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.error = reason;
    }
    this.notify();
  }

  private dispatch(input: T): void {
    if (
      input === null ||
      typeof input !== 'object' ||
      !(Array.isArray(input.rows) || isArrowInput(input.rows)) ||
      typeof input.id !== 'number'
    ) {
      this.fail(
        new ValidationError(
          `Expected each source item to be { id: number, rows: array | ArrowInput }, got ${describeValue(input)}`,
        ),
      );
      return;
    }
    const seq = this.nextSeq++;
    this.inFlight++;
    this.runner.run(input.id, input.rows).then(
      (rows) => {
        this.inFlight--;
        const result: BatchResult<T> = { id: input.id, rows, input };
        if (this.ordered) this.done.set(seq, result);
        else this.completed.push(result);
        this.notify();
      },
      (reason: unknown) => {
        this.inFlight--;
        this.fail(reason);
      },
    );
  }

  private pull(): void {
    this.pulling = true;
    Promise.resolve(this.iterator.next()).then(
      (r) => {
        this.pulling = false;
        if (r.done) this.sourceDone = true;
        else if (!this.failed) this.dispatch(r.value);
        this.notify();
      },
      (reason: unknown) => {
        this.pulling = false;
        this.sourceDone = true;
        this.fail(reason);
      },
    );
  }

  /** The next result that may leave now (in input order when ordered), or undefined. */
  take(): BatchResult<T> | undefined {
    if (!this.ordered) return this.completed.shift();
    const r = this.done.get(this.nextEmit);
    if (r !== undefined) this.done.delete(this.nextEmit++);
    return r;
  }

  /**
   * With nothing to emit: 'finished' when everything is through, 'pulled' when it asked the
   * source for one more batch, else waits until a callback has recorded something.
   */
  async advance(): Promise<'finished' | 'pulled' | 'woken'> {
    const buffered = this.ordered ? this.done.size : this.completed.length;
    if (this.sourceDone && !this.pulling && this.inFlight === 0 && buffered === 0) return 'finished';
    if (!this.sourceDone && !this.pulling && this.inFlight + buffered < this.size) {
      this.pull();
      return 'pulled';
    }
    if (!this.signalled) await new Promise<void>((resolve) => (this.wake = resolve));
    this.signalled = false;
    return 'woken';
  }
}

/**
 * Runs every batch of `source` through `runner` (a WorkerPool or another backend) and yields the
 * results. The first failure (a WorkerError, a source error, an abort) ends the iteration; batches
 * still running are left to the runner, whose owner destroys it.
 */
export async function* mapBatchesInPool<T extends BatchTask<BatchInput>>(
  runner: BatchRunner<T['rows']>,
  source: AsyncIterable<T> | Iterable<T>,
  options: MapBatchesOptions = {},
): AsyncGenerator<BatchResult<T>, void, undefined> {
  if (runner === null || typeof runner !== 'object' || typeof runner.run !== 'function') {
    throw new ValidationError(`Expected \`runner\` to have a run(taskId, rows) method, got ${describeValue(runner)}`);
  }
  const ordered = expectBoolean(options.ordered, 'options.ordered', true);
  const size = expectInteger(options.window, 'options.window', 4, 1);
  const signal = expectSignal(options.signal, 'options.signal');
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });

  const iterator =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
  const window = new BatchWindow(runner, iterator, ordered, size);
  const onAbort = (): void => window.fail(new AbortError(undefined, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });

  let finished = false;
  try {
    for (;;) {
      if (window.failed) throw window.error;
      for (let r = window.take(); r !== undefined; r = window.take()) {
        yield r;
        if (window.failed) throw window.error;
      }
      if ((await window.advance()) === 'finished') {
        finished = true;
        return;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished && !window.sourceDone) {
      // a pending next() would delay return(); close the source without waiting on it then
      const closing = Promise.resolve(iterator.return?.());
      if (window.pulling) closing.catch(() => {});
      else await closing.catch(() => {});
    }
  }
}
