/**
 * Runs inside a worker thread or a forked child: loads the user's module once, then runs one batch
 * per message, one at a time. A row function is called once per row (sync or async, awaited in
 * order); `undefined` or `none` drops the row, `many([...])` gives several, as in `map`. A batch
 * function gets the rows and returns the output rows.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodedRows, exportedFunction, serializeError } from './protocol.ts';
import { decodeRecords } from '../../formats/records/record-codec.ts';
import { startHeapWriter } from './heap-report.ts';
import { isThenable } from '../../core/thenable.ts';
import type { FromWorker, InitMessage, RunMessage, ToWorker } from './protocol.ts';
import { ROWS_SCHEMA } from '../../formats/arrow/metadata-keys.ts';

/** A row function `(row, index)` (as map's), or a batch function `(rows, { batch })`. */
type UserFunction = (input: unknown, second: unknown) => unknown;

const port = parentPort;
let fn: UserFunction | undefined;
let kind: 'row' | 'batch' = 'row';
// threads with a memory limit report their heap (heap-report.ts): written after the module loads,
// after each batch and every HEAP_EVERY rows, so a batch climbing to the limit in a synchronous
// loop over its rows is seen at its limit when its timeout fires (the timer cannot run meanwhile)
let writeHeap: (() => void) | undefined;
const HEAP_EVERY = 64;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  if (port) port.postMessage(message, transfer);
  else process.send?.(message);
}

async function load(moduleUrl: string, exportName: string): Promise<UserFunction> {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  const value = exportedFunction(mod, exportName);
  if (value === undefined) {
    const found = mod[exportName];
    throw new TypeError(`Expected export \`${exportName}\` of ${moduleUrl} to be a function, got ${typeof found}`);
  }
  return value as UserFunction;
}

async function runBatch(taskId: number, rows: unknown[]): Promise<unknown[]> {
  if (fn === undefined) throw new Error('worker used before its module loaded');
  if (kind === 'batch') {
    let out = fn(rows, { batch: taskId });
    if (isThenable(out)) out = await out;
    if (!Array.isArray(out))
      throw new TypeError(
        `Expected the batch function to return an array, got ${isIterator(out) ? 'an iterator (a generator function? return [...rows])' : out === null ? 'null' : typeof out}`,
      );
    return out;
  }
  const out: unknown[] = [];
  for (let i = 0; i < rows.length; i++) {
    if ((i + 1) % HEAP_EVERY === 0) writeHeap?.();
    // (row, index in its batch), as map() calls it: a function written for map() runs unchanged
    let result = fn(rows[i], i);
    if (isThenable(result)) result = await result;
    // a generator function: its iterator cannot cross to the main thread ("could not be cloned")
    if (isIterator(result))
      throw new TypeError(
        "Expected the row function to return a row, got an iterator (a generator function?): parallel() takes one result a row; for many rows from a batch, use `kind: 'batch'` and return an array",
      );
    if (result === undefined || result === NONE) continue;
    if (typeof result === 'object' && result !== null && MANY in result) {
      // many([...]): its values, in order (cloned as is, it became a row `{ values: [...] }`)
      for (const value of (result as unknown as { values: unknown[] }).values)
        if (value !== undefined && value !== NONE) out.push(value);
    } else if (result === STOP)
      throw new TypeError(
        'Expected the row function to return a row, got `stop`: a parallel() worker sees only its own batches and cannot end the input; stop it before parallel() (limit, or a map returning stop)',
      );
    else out.push(result);
  }
  return out;
}

// stream-chain's sentinels, by their registered symbols: the user's module may hold its own copy
const NONE = Symbol.for('object-stream.none');
const STOP = Symbol.for('object-stream.stop');
const MANY = Symbol.for('object-stream.many');

/** An iterator object (what a generator function returns), not an array or a row. */
function isIterator(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { next?: unknown }).next === 'function';
}

async function init(message: InitMessage): Promise<void> {
  kind = message.kind;
  try {
    fn = await load(message.moduleUrl, message.exportName);
    writeHeap?.();
    send({ type: 'ready' });
  } catch (error) {
    send({ type: 'init-error', error: serializeError(error) });
  }
}

type ArrowDecoder = (bytes: Uint8Array) => unknown[];
let arrowDecoder: Promise<ArrowDecoder> | undefined;

/** Loaded on the first Arrow batch only, so workers that get rows never load apache-arrow. */
async function loadArrowDecoder(): Promise<ArrowDecoder> {
  const [{ tableFromIPC }, { recordBatchToRows }] = await Promise.all([
    import('apache-arrow'),
    import('../../formats/arrow/convert.ts'),
  ]).finally(() => send({ type: 'loaded' }));
  // the same conversion as Batch.rows in the main thread, so results do not depend on the path
  return (bytes) => {
    const table = tableFromIPC(bytes);
    const rows = table.batches.flatMap((batch) => recordBatchToRows(batch));
    // what the rows were (a DECIMAL is text in them): partialGroups refuses to compare such text as text
    Object.defineProperty(rows, ROWS_SCHEMA, { value: table.schema });
    return rows;
  };
}

async function inputRows(message: RunMessage): Promise<unknown[]> {
  if (message.records !== undefined) return decodeRecords(message.records);
  if (message.arrow === undefined) return message.rows ?? [];
  arrowDecoder ??= loadArrowDecoder();
  return (await arrowDecoder)(message.arrow);
}

async function onMessage(message: ToWorker): Promise<void> {
  if (message.type === 'run') {
    try {
      const rows = await runBatch(message.taskId, await inputRows(message));
      writeHeap?.();
      // as the input was (see RunMessage): encoded when that pays or keeps a PreciseDate's nanoseconds
      const records = encodedRows(rows);
      if (records)
        send({ type: 'result', taskId: message.taskId, records }, port ? [records.buffer as ArrayBuffer] : []);
      // rows as they are, copied: their buffers may be the module's own (a cache, a lookup table),
      // which a transfer detached for the next batch
      else send({ type: 'result', taskId: message.taskId, rows });
    } catch (error) {
      send({ type: 'error', taskId: message.taskId, error: serializeError(error) });
    }
  } else if (message.type === 'exit') {
    process.exit(0);
  }
}

// the init message travels in workerData (threads) or the environment (children), so no message can race the listener
const initMessage = (
  port ? (workerData as { init: InitMessage }).init : JSON.parse(process.env.SPILLWAY_POOL_INIT ?? 'null')
) as InitMessage | null;
if (port) {
  const heap = (workerData as { heap?: SharedArrayBuffer }).heap;
  if (heap !== undefined) writeHeap = startHeapWriter(heap);
  port.on('message', (message: ToWorker) => void onMessage(message));
} else {
  process.on('message', (message: ToWorker) => void onMessage(message));
  // the parent is gone (even killed with SIGKILL): never outlive it
  process.on('disconnect', () => process.exit(0));
}

if (initMessage === null) throw new Error('spillway worker started without SPILLWAY_POOL_INIT');
void init(initMessage);
