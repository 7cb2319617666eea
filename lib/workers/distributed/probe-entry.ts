/**
 * Runs in a thread started by module-probe.ts: imports the user's module once, as a pool worker
 * would, and reports the names of its function exports, or why the import failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { functionExports } from '../pool/protocol.ts';

const { moduleUrl } = workerData as { moduleUrl: string };
try {
  const mod = (await import(moduleUrl)) as Record<string, unknown>;
  parentPort?.postMessage({ exports: functionExports(mod) });
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}
