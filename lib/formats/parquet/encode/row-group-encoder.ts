/**
 * Where a row group is encoded and compressed: on the main thread, or on an encoder thread of its
 * own so that the work runs beside the pipeline's (parsing CSV, user transforms). Building
 * dictionaries, statistics, PLAIN pages and levels, then compressing, costs about 0.4 us a row of
 * main-thread time on the 8-column bench data, a third of the whole CSV -> Parquet pipeline's;
 * moved to a thread, it overlaps with parsing on a second core. The writer hands over a row group
 * as a compact copy of its columns (the columns are then reused for the next row group) and gets
 * the compressed pages back, in order; at most two row groups are out at once (the writer waits
 * for the previous one before sending the next), so memory stays bounded.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleThread, tsxFor } from '../../../workers/pool/module-thread.ts';
import { ownModule } from '../../../core/own-module.ts';
import type { ColumnBuffer, ColumnSnapshot } from './column-buffer.ts';
import type { ParquetCompression } from './compress.ts';
import { encodeColumnsAsync, type EncodedChunk } from './encoded-chunk.ts';
import { DEFAULT_PAGE_BYTES } from './page.ts';

/** A row group sent to the encoder thread. */
export interface EncodeRequest {
  id: number;
  codec: ParquetCompression;
  /** Uncompressed bytes a page holds at most (about). */
  pageBytes: number;
  columns: ColumnSnapshot[];
}

/** The encoder thread's answer. */
export type EncodeReply =
  | { id: number; chunks: EncodedChunk[] }
  | { id: number; error: { name: string; message: string } };

/** `'auto'`: a thread when the machine has a second core and a row group is worth it. */
export type EncoderThreadOption = boolean | 'auto';

/** Row groups smaller than this are encoded on the main thread in `'auto'` mode (a thread costs a start). */
const AUTO_MIN_ROWS = 16_384;

/** What the encoder asks of a memory governor before starting a thread (a GovernorGate has it). */
export interface ThreadGate {
  readonly level: string;
  headroom(): number;
}

/** Room a thread needs below the pause mark: its isolate and a row group in flight. */
const THREAD_ROOM = 96e6;

function roomForThread(gate: ThreadGate): boolean {
  return gate.level === 'ok' && gate.headroom() >= THREAD_ROOM;
}

/** Encodes row groups for one writer, inline or on its encoder thread. */
export class RowGroupEncoder {
  readonly #codec: ParquetCompression;
  readonly #mode: EncoderThreadOption;
  readonly #pageBytes: number;
  #worker: Worker | undefined;
  #failure: Error | undefined;
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: (chunks: EncodedChunk[]) => void; reject: (error: Error) => void }>();

  #gate: ThreadGate | undefined;

  constructor(codec: ParquetCompression, mode: EncoderThreadOption, pageBytes = DEFAULT_PAGE_BYTES) {
    this.#codec = codec;
    this.#pageBytes = pageBytes;
    this.#mode = mode === 'auto' && availableParallelism() < 2 ? false : mode;
  }

  /**
   * In `'auto'` mode, starts a thread only while `gate` allows it: a thread is a second V8 isolate
   * (about 20-30 MB of RSS, more through tsx) plus a row group in flight, which a governed run
   * near its limit cannot afford (a sort's output phase at a 256 MB limit passed the critical mark
   * with it). A thread already running is kept.
   */
  setGate(gate: ThreadGate | undefined): void {
    this.#gate = gate;
  }

  /** True once an encoder thread was started. */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Takes the columns' buffered rows now (the caller may reset the columns when this returns) and
   * resolves with their encoded, compressed chunks.
   */
  encode(columns: readonly ColumnBuffer[], rows: number): Promise<EncodedChunk[]> {
    const threaded =
      this.#worker !== undefined ||
      this.#mode === true ||
      (this.#mode === 'auto' && rows >= AUTO_MIN_ROWS && (this.#gate === undefined || roomForThread(this.#gate)));
    if (!threaded) return encodeColumnsAsync(columns, this.#codec, this.#pageBytes);
    if (this.#failure) return Promise.reject(this.#failure);
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    const request: EncodeRequest = {
      id,
      codec: this.#codec,
      pageBytes: this.#pageBytes,
      columns: columns.map((col) => col.snapshot()),
    };
    const transfer = request.columns
      .flatMap((s) => [s.defs.buffer, s.values?.buffer, s.data?.buffer, s.offsets?.buffer])
      .filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
    return new Promise<EncodedChunk[]>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      // keep the process alive while a row group is out (the thread is unref'd when idle)
      worker.ref();
      worker.postMessage(request, transfer);
    });
  }

  /** Stops the encoder thread, if any. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#fail(new Error('Parquet encoder closed'));
    // an unref'd thread does not keep the event loop alive until its exit: the process could end
    // with this close() (and the commit or abort awaiting it) still pending
    worker?.ref();
    await worker?.terminate();
  }

  #start(): Worker {
    const entry = ownModule('lib/formats/parquet/encode/encoder-thread');
    const worker = startModuleThread(entry, {}, tsxFor(entry));
    worker.unref();
    worker.on('message', (message: EncodeReply) => {
      const waiting = this.#waiting.get(message.id);
      this.#waiting.delete(message.id);
      // idle: let the process end. Not once closing: a reply that crosses terminate() would drop
      // the ref close() holds, and the process could end with close() pending (seen under load)
      if (this.#waiting.size === 0 && this.#worker === worker) worker.unref();
      if (!waiting) return;
      if ('error' in message)
        waiting.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
      else waiting.resolve(message.chunks);
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`Parquet encoder thread exited with code ${code}`)));
    return worker;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}
