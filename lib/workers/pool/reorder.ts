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
  const window = expectInteger(options.window, 'options.window', 4, 1);
  const signal = expectSignal(options.signal, 'options.signal');
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });

  const iterator =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
  const done = new Map<number, BatchResult<T>>(); // ordered: by sequence number
  const completed: BatchResult<T>[] = []; // unordered: in completion order
  let nextSeq = 0;
  let nextEmit = 0;
  let inFlight = 0;
  let sourceDone = false;
  let pulling = false;
  let failed = false;
  let error: unknown;
  let signalled = false;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    signalled = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (reason: unknown): void => {
    if (!failed) {
      failed = true;
      error = reason;
    }
    notify();
  };
  const onAbort = (): void => fail(new AbortError(undefined, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });

  const dispatch = (input: T): void => {
    if (
      input === null ||
      typeof input !== 'object' ||
      !(Array.isArray(input.rows) || isArrowInput(input.rows)) ||
      typeof input.id !== 'number'
    ) {
      fail(
        new ValidationError(
          `Expected each source item to be { id: number, rows: array | ArrowInput }, got ${describeValue(input)}`,
        ),
      );
      return;
    }
    const seq = nextSeq++;
    inFlight++;
    runner.run(input.id, input.rows).then(
      (rows) => {
        inFlight--;
        const result: BatchResult<T> = { id: input.id, rows, input };
        if (ordered) done.set(seq, result);
        else completed.push(result);
        notify();
      },
      (reason: unknown) => {
        inFlight--;
        fail(reason);
      },
    );
  };

  const pull = (): void => {
    pulling = true;
    Promise.resolve(iterator.next()).then(
      (r) => {
        pulling = false;
        if (r.done) sourceDone = true;
        else if (!failed) dispatch(r.value);
        notify();
      },
      (reason: unknown) => {
        pulling = false;
        sourceDone = true;
        fail(reason);
      },
    );
  };

  let finished = false;
  try {
    for (;;) {
      if (failed) throw error;
      if (ordered) {
        for (let r = done.get(nextEmit); r !== undefined; r = done.get(nextEmit)) {
          done.delete(nextEmit++);
          yield r;
          if (failed) throw error;
        }
      } else {
        for (let r = completed.shift(); r !== undefined; r = completed.shift()) {
          yield r;
          if (failed) throw error;
        }
      }
      const buffered = ordered ? done.size : completed.length;
      if (sourceDone && !pulling && inFlight === 0 && buffered === 0) {
        finished = true;
        return;
      }
      if (!sourceDone && !pulling && inFlight + buffered < window) {
        pull();
        continue;
      }
      if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
      signalled = false;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished && !sourceDone) {
      // a pending next() would delay return(); close the source without waiting on it then
      const closing = Promise.resolve(iterator.return?.());
      if (pulling) closing.catch(() => {});
      else await closing.catch(() => {});
    }
  }
}
