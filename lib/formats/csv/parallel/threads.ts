/**
 * The parser threads of one fromCsv read: started when the read starts, given ranges round
 * robin once loaded, stopped (terminated) when the read ends, fails or is aborted. A thread that dies fails
 * the ranges it held; the reader then parses them on the main thread.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleThread, tsxFor } from '../../../workers/pool/module-thread.ts';
import { ownModule } from '../../../core/own-module.ts';
import type { RangeReply, RangeTask } from './task.ts';

interface Waiting {
  resolve: (reply: RangeReply) => void;
  reject: (error: Error) => void;
}

/** A few parser threads; see the module comment. */
export class ParserThreads {
  readonly #workers: Worker[] = [];
  readonly #waiting = new Map<number, Waiting>();
  #next = 0;
  #ready = 0;
  #failure: Error | undefined;

  /** Starts `count` threads. */
  constructor(count: number) {
    for (let i = 0; i < count; i++) this.#workers.push(this.#start());
  }

  /** Number of threads. */
  get size(): number {
    return this.#workers.length;
  }

  /** Threads that have loaded their code (a range given earlier would wait for the load). */
  get ready(): number {
    return this.#failure === undefined ? this.#ready : 0;
  }

  /** Parses `task` on the next thread. */
  run(task: RangeTask): Promise<RangeReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return new Promise<RangeReply>((resolve, reject) => {
      this.#waiting.set(task.id, { resolve, reject });
      worker.postMessage(task);
    });
  }

  /** Terminates the threads; ranges still out are failed. */
  async close(): Promise<void> {
    this.#fail(new Error('CSV parser threads closed'));
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #start(): Worker {
    const entry = ownModule('lib/formats/csv/parallel/worker');
    const worker = startModuleThread(entry, {}, tsxFor(entry));
    worker.on('message', (reply: RangeReply | { ready: true }) => {
      if ('ready' in reply) {
        this.#ready++;
        return;
      }
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      waiting?.resolve(reply);
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`CSV parser thread exited with code ${code}`)));
    return worker;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}
