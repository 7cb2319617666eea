/**
 * `spillway worker` loads its module once at start (issue 19): a module that throws on import or
 * exports no function would otherwise take jobs from the queue only to fail every one of them.
 * The import runs in a thread of its own (with tsx for TypeScript, as the pool's threads have it),
 * so the module's top-level code never runs in the worker's main thread and ends with the thread.
 */
import { startModuleThread } from '../pool/thread-worker.ts';
import { tsxFor } from '../pool/pool-worker.ts';

const sourceExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const PROBE_URL = new URL(`./probe-entry${sourceExt}`, import.meta.url);

type ProbeReply = { exports: string[] } | { error: string };

/**
 * Imports `moduleUrl` in a new thread; resolves with the names of its function exports, or
 * rejects with an Error saying why it could not be imported (its first line only).
 */
export async function probeModule(moduleUrl: URL): Promise<string[]> {
  const worker = startModuleThread(PROBE_URL, { moduleUrl: moduleUrl.href }, tsxFor(moduleUrl));
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once('message', (reply: ProbeReply) =>
        'error' in reply ? reject(new Error(firstLine(reply.error))) : resolve(reply.exports),
      );
      worker.once('error', (error) => reject(new Error(firstLine(`${error.name}: ${error.message}`))));
      worker.once('exit', (code) => reject(new Error(`the thread importing it ended (exit code ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}
