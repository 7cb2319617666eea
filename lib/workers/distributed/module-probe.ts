/**
 * `spillway worker` loads its module once at start (issue 19): a module that throws on import or
 * exports no function would otherwise take jobs from the queue only to fail every one of them.
 * The import runs in a thread of its own (with tsx for TypeScript, as the pool's threads have it),
 * so the module's top-level code never runs in the worker's main thread and ends with the thread;
 * an import that does not finish in time (a top-level await on a server that never answers) ends
 * with its thread too, and the start fails instead of hanging.
 */
import { startModuleThread, tsxFor } from '../pool/module-thread.ts';
import { ownModule } from '../../core/own-module.ts';

type ProbeReply = { exports: string[] } | { error: string };

/** The import did not finish within the probe's bound; its message says so in one line. */
export class ModuleProbeTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`importing it did not finish within ${timeoutMs / 1000} s`);
    this.name = 'ModuleProbeTimeout';
  }
}

/**
 * Imports `moduleUrl` in a new thread; resolves with the names of its function exports, or
 * rejects with an Error saying why it could not be imported (its first line only), or with a
 * {@link ModuleProbeTimeout} after `timeoutMs` (the thread is terminated either way).
 */
export async function probeModule(moduleUrl: URL, timeoutMs: number): Promise<string[]> {
  const worker = startModuleThread(
    ownModule('lib/workers/distributed/probe-entry'),
    { moduleUrl: moduleUrl.href },
    tsxFor(moduleUrl),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once('message', (reply: ProbeReply) =>
        'error' in reply ? reject(new Error(firstLine(reply.error))) : resolve(reply.exports),
      );
      worker.once('error', (error) => reject(new Error(firstLine(`${error.name}: ${error.message}`))));
      worker.once('exit', (code) => reject(new Error(`the thread importing it ended (exit code ${code})`)));
      timer = setTimeout(() => reject(new ModuleProbeTimeout(timeoutMs)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}
