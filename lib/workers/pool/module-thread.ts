/**
 * Starting one of spillway's modules (or a user's) on a worker thread, with tsx's loaders
 * registered inside the thread when the module is TypeScript. Kept apart from the pool's worker
 * classes so that a Parquet writer or the CSV reader, which start a thread of their own, do not
 * load the pool's protocol and record codec with it.
 *
 * TypeScript: tsx's loader is registered inside the thread before the entry loads (`--import tsx`
 * in a Worker's execArgv does not apply hooks to the thread on Node 20), which works the same on
 * Node 20, 22 and 24.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { FROM_SOURCE } from '../../core/own-module.ts';

/** URLs of tsx's loaders, as a thread or a child process registers them. */
export interface TsxLoaders {
  loader: string;
  esm: string;
  cjs: string;
}

// Runs in the new thread as a script or as a module (the parent may run with --input-type=module),
// so it uses only dynamic import(): register tsx when needed, then load the entry.
const BOOTSTRAP = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.tsx) {
    (await import(workerData.tsx.esm)).register();
    (await import(workerData.tsx.cjs)).register();
  }
  await import(workerData.bundle ?? workerData.entry);
})();
`;

/**
 * Starts a worker thread that loads the module `entry` (TypeScript through tsx when `tsx` is
 * given, see {@link tsxFor}; or `data.bundle`, a data: URL of the entry bundled to JavaScript, in
 * its place), with `data`'s fields in its workerData beside `entry` and `tsx`.
 */
export function startModuleThread(
  entry: URL,
  data: Record<string, unknown>,
  tsx: TsxLoaders | undefined,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> = {},
): Worker {
  return new Worker(BOOTSTRAP, { ...options, eval: true, workerData: { ...data, entry: entry.href, tsx } });
}

/**
 * URLs of tsx's loaders when a thread or process needs them: the entry is TypeScript (running
 * from source) or the user module is. Undefined when plain Node can load both.
 */
export function tsxFor(moduleUrl: URL): TsxLoaders | undefined {
  if (!FROM_SOURCE && !isTypeScript(moduleUrl)) return undefined;
  return tsxLoaders();
}

/** tsx's loaders when the user module itself is TypeScript (the entry being JavaScript). */
export function tsxForModule(moduleUrl: URL): TsxLoaders | undefined {
  return isTypeScript(moduleUrl) ? tsxLoaders() : undefined;
}

function isTypeScript(moduleUrl: URL): boolean {
  return /\.[cm]?tsx?$/i.test(moduleUrl.pathname);
}

function tsxLoaders(): TsxLoaders {
  return {
    loader: import.meta.resolve('tsx'),
    esm: import.meta.resolve('tsx/esm/api'),
    cjs: import.meta.resolve('tsx/cjs/api'),
  };
}
