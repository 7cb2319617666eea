/**
 * An ES module loaded on first use rather than at import (issue 17 item 8): `import 'spillway'`
 * must not load Arrow, the Parquet and CSV formats, the worker pool or the codecs before a run
 * needs them. The loader is shared, so the module is imported once; after it has loaded,
 * {@link LazyModule.loaded} gives it synchronously, so hot paths pay a promise only once.
 */

/** A module imported on the first {@link LazyModule.load}. */
export interface LazyModule<M> {
  /** The module once it has loaded, else undefined. */
  readonly loaded: M | undefined;
  /** Imports the module (once) and resolves to it. */
  load(): Promise<M>;
}

/** A {@link LazyModule} that calls `importer` (a dynamic `import()`) on first load. */
export function lazyImport<M>(importer: () => Promise<M>): LazyModule<M> {
  let module: M | undefined;
  let loading: Promise<M> | undefined;
  return {
    get loaded() {
      return module;
    },
    load() {
      loading ??= importer().then(
        (m) => (module = m),
        (error: unknown) => {
          // a failed import (e.g. a missing optional file) is retried by the next caller
          loading = undefined;
          throw error;
        },
      );
      return loading;
    },
  };
}

/**
 * Runs `work` with the module: at once when it has loaded, else once it has (a promise). Lets a
 * synchronous hot path stay synchronous after the first call.
 */
export function withModule<M, R>(lazy: LazyModule<M>, work: (module: M) => R): R | Promise<R> {
  const module = lazy.loaded;
  return module !== undefined ? work(module) : lazy.load().then(work);
}
