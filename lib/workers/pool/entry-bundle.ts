/**
 * Running from source, the pool's worker entry is TypeScript, and loading tsx in every thread
 * costs about a second per worker on Node 20 (its ESM hooks start a loader thread of their own;
 * measured 1.1-1.9 s on the loaded 2-core development machine against 0.1-0.4 s for a bare
 * thread). So the entry is bundled once per process with esbuild (which tsx brings), its package
 * imports pointing at absolute URLs, and a thread imports the bundle from a `data:` URL: tsx is
 * then loaded only for a user module that is TypeScript. Built (`dist/`), the entry is already
 * JavaScript and nothing is bundled.
 */
import { createRequire, builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { logger } from '../../core/log.ts';

const debug = logger('pool');

/** The slice of esbuild's API used here. */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}

interface ResolveArgs {
  path: string;
  kind: string;
  resolveDir: string;
}

type OnResolve = (
  options: { filter: RegExp },
  callback: (
    args: ResolveArgs,
  ) => Promise<{ path: string; external: boolean } | undefined> | { path: string; external: boolean } | undefined,
) => void;

const bundles = new Map<string, Promise<string | undefined>>();
const settled = new Map<string, string>();

/**
 * A `data:` URL of `entry` bundled to JavaScript, or undefined when that is not needed (the entry
 * is JavaScript) or not possible (no esbuild, a bundling error: the caller falls back to tsx).
 * Computed once per entry and process.
 */
export function bundledEntry(entry: URL): Promise<string | undefined> {
  if (!/\.[cm]?ts$/.test(entry.pathname)) return Promise.resolve(undefined);
  let bundle = bundles.get(entry.href);
  if (bundle === undefined) {
    bundle = bundle_(entry).catch((error: unknown) => {
      debug('could not bundle %s, workers load it through tsx: %s', entry.href, (error as Error).message);
      return undefined;
    });
    bundles.set(entry.href, bundle);
  }
  return bundle;
}

/** The bundle of `entry` if {@link bundledEntry} has finished with one, else undefined. */
export function readyBundle(entry: URL): string | undefined {
  return settled.get(entry.href);
}

async function bundle_(entry: URL): Promise<string | undefined> {
  const started = performance.now();
  const requireFromTsx = createRequire(fileURLToPath(import.meta.resolve('tsx')));
  const esbuild = (await import(pathToFileURL(requireFromTsx.resolve('esbuild')).href)) as Esbuild;
  const requireHere = createRequire(fileURLToPath(entry));
  const builtins = new Set(builtinModules);
  const packages = {
    name: 'spillway-absolute-packages',
    setup(build: { onResolve: OnResolve }): void {
      // a data: URL module resolves only absolute URLs and builtins: point package imports at their files
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || builtins.has(args.path)) return { path: args.path, external: true };
        return { path: importUrl(args.path, requireHere), external: true };
      });
      // a module imported lazily stays lazy: bundled on its own (its static imports would otherwise
      // be hoisted into the entry: apache-arrow alone takes ~0.7 s to load in a thread)
      build.onResolve({ filter: /^\./ }, async (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const lazy = await bundledEntry(pathToFileURL(join(args.resolveDir, args.path)));
        if (lazy === undefined) throw new Error(`could not bundle ${args.path}`);
        return { path: lazy, external: true };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [packages],
  });
  const text = result.outputFiles?.[0]?.text;
  if (text === undefined) return undefined;
  const url = `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`;
  settled.set(entry.href, url);
  debug('bundled %s in %d ms (%d bytes)', entry.href, Math.round(performance.now() - started), text.length);
  return url;
}

/** The file URL a package import resolves to, as ESM (the `import` condition) where it has one. */
function importUrl(specifier: string, requireHere: NodeJS.Require): string {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return pathToFileURL(requireHere.resolve(specifier)).href;
  }
}
