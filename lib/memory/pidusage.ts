/**
 * pidusage, loaded on first call (lib/core/lazy-require.ts): only runs with child processes to
 * watch need it. Used as the default export of 'pidusage' is.
 */
import type Pidusage from 'pidusage';
import { lazyRequire } from '../core/lazy-require.ts';

const load = lazyRequire<typeof Pidusage>('pidusage');

/** pidusage itself (the same overloads), loaded on first call. */
const pidusage = ((...args: unknown[]) => (load() as (...a: unknown[]) => unknown)(...args)) as typeof Pidusage;
pidusage.clear = () => load().clear();
export default pidusage;
