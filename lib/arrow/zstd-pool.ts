/**
 * zstd compression off the main thread. zstd-napi compresses synchronously only, so a spill with
 * `compression: 'zstd'` used to compress every buffer on the main thread, between batches; lz4
 * has lz4-napi's async frame compression on the libuv threadpool. This is the same for zstd: a
 * small pool of plain worker threads (no TypeScript loader: an eval'd CommonJS script that
 * requires zstd-napi, a few MB each), started on first use, unref'd while idle. Inputs are copied
 * and the copies transferred; outputs come back transferred. Buffers under 64 kB are compressed
 * inline, where a message costs more than the work.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { compress as zstdCompressSync } from 'zstd-napi';

const require = createRequire(import.meta.url);

/** Below this many bytes a buffer is compressed on the calling thread. */
export const INLINE_BYTES = 64 * 1024;

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { compress } = require(workerData.zstd);
parentPort.on('message', ({ id, bytes }) => {
  try {
    const out = compress(bytes);
    const copy = new Uint8Array(out.byteLength);
    copy.set(out);
    parentPort.postMessage({ id, out: copy }, [copy.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (out: Uint8Array) => void; reject: (error: Error) => void }>;
}

/** A pool of zstd compression threads. */
export class ZstdPool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  #nextId = 0;

  /** @param size threads (default: 2, at most the machine's parallelism) */
  constructor(size = Math.max(1, Math.min(2, availableParallelism()))) {
    this.size = size;
  }

  #slot(): Slot {
    if (this.#slots.length < this.size) {
      const worker = new Worker(SCRIPT, { eval: true, workerData: { zstd: require.resolve('zstd-napi') } });
      worker.unref();
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (message: { id: number; out?: Uint8Array; error?: string }) => {
        const waiting = slot.pending.get(message.id);
        slot.pending.delete(message.id);
        if (slot.pending.size === 0) worker.unref();
        if (!waiting) return;
        if (message.error !== undefined || !message.out) waiting.reject(new Error(`zstd compression failed: ${message.error}`));
        else waiting.resolve(message.out);
      });
      const fail = (error: Error): void => {
        for (const w of slot.pending.values()) w.reject(error);
        slot.pending.clear();
        const i = this.#slots.indexOf(slot);
        if (i >= 0) this.#slots.splice(i, 1);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`the zstd thread exited (code ${code})`)));
      this.#slots.push(slot);
      return slot;
    }
    return this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /** Compresses `bytes` (a zstd frame), off the main thread unless it is small. */
  compress(bytes: Uint8Array): Promise<Uint8Array> {
    if (bytes.byteLength < INLINE_BYTES) return Promise.resolve(zstdCompressSync(bytes));
    const slot = this.#slot();
    const id = this.#nextId++;
    const copy = bytes.slice();
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, bytes: copy }, [copy.buffer]);
    });
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

let shared: ZstdPool | undefined;

/** The process-wide pool spill writers share. */
export function zstdPool(): ZstdPool {
  shared ??= new ZstdPool();
  return shared;
}
