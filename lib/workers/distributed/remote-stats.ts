/**
 * What the BullMQ producer counts of a run: per remote worker (`spillway worker` process, by id
 * and host) the batches, rows, busy time and failed attempts the workers recorded in Redis, and
 * the run's totals (stalls, duplicates, dead-lettered batches, payload encodings and bytes).
 */
import { rowsPerSecond, sumWorkers, type PoolStats, type WorkerStats } from '../pool/worker-pool.ts';
import { failuresKey, workersKey } from './job.ts';

/** The part of an ioredis client that {@link RemoteCounters.readFailures} uses. */
export interface HashReader {
  hgetall(key: string): Promise<Record<string, string>>;
}

/** Counters of one remote worker (`spillway worker` process), by its id and host. */
export interface RemoteWorkerStats extends WorkerStats {
  /** The worker's host name. */
  host: string;
}

/** The counters of one producer run. */
export class RemoteCounters {
  readonly #workers = new Map<string, RemoteWorkerStats>();
  /** Completions of a batch already settled (a stalled worker that finished after all). */
  duplicates = 0;
  /** Jobs BullMQ found stalled and queued again. */
  stalled = 0;
  deadBatches = 0;
  deadRows = 0;
  /** Batches that failed after their retries. */
  failedBatches = 0;
  readonly encodings = { arrow: 0, v8: 0 };
  bytesSent = 0;
  bytesReceived = 0;

  /** The counters of worker `id`, made on first sight. */
  worker(id: string, host: string, pid: number): RemoteWorkerStats {
    let stats = this.#workers.get(id);
    if (stats === undefined) {
      stats = {
        id,
        host,
        pid,
        batches: 0,
        rows: 0,
        failures: 0,
        restarts: 0,
        recycles: 0,
        busyMs: 0,
        rowsPerSec: 0,
        exits: [],
      };
      this.#workers.set(id, stats);
    }
    return stats;
  }

  /**
   * Failed attempts per worker, as the workers recorded them in Redis under `base`. The client is
   * typed by the one call made on it, so the published types need no ioredis (an optional peer).
   */
  async readFailures(client: HashReader | undefined, base: string): Promise<void> {
    if (client === undefined) return;
    const [failures, workers] = await Promise.all([
      client.hgetall(failuresKey(base)),
      client.hgetall(workersKey(base)),
    ]);
    for (const [id, count] of Object.entries(failures)) {
      let host = 'unknown';
      let pid = 0;
      try {
        ({ host, pid } = JSON.parse(workers[id] ?? '{}') as { host: string; pid: number });
      } catch {
        // keep unknown
      }
      this.worker(id, host, pid).failures = Number(count);
    }
  }

  /** Counters per remote worker and totals, with `queued` batches not yet settling. */
  stats(queued: number): PoolStats {
    const workers = [...this.#workers.values()].map((w) => ({
      ...w,
      exits: [...w.exits],
      rowsPerSec: rowsPerSecond(w.rows, w.busyMs),
    }));
    const failures = workers.reduce((n, w) => n + w.failures, 0);
    return {
      workers,
      totals: sumWorkers(workers, {
        retries: Math.max(0, failures - this.failedBatches) + this.stalled,
        deadLetteredBatches: this.deadBatches,
        deadLetteredRows: this.deadRows,
        queued,
        running: 0,
      }),
    };
  }

  /** The payload and stall counters the stage shows in its `details`. */
  details(): Record<string, number> {
    return {
      stalled: this.stalled,
      duplicates: this.duplicates,
      batchesAsArrow: this.encodings.arrow,
      batchesAsV8: this.encodings.v8,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
    };
  }
}
