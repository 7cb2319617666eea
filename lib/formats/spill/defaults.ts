/**
 * Defaults of the spill sink and reader, apart from the code so that `toSpill`'s option
 * checks do not load the spill reader (and apache-arrow) when spillway is imported.
 */

/** Default of `cacheBytes`. */
export const DEFAULT_CACHE_BYTES = 64e6;
