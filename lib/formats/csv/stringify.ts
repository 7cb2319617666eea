/**
 * csv-stringify's synchronous `stringify`, loaded on first call (lib/core/lazy-require.ts, its
 * CommonJS build): toCsv's fast formatter needs it only for options it does not handle itself.
 */
import { lazyRequire } from '../../core/lazy-require.ts';

type CsvStringify = typeof import('csv-stringify/sync');
const load = lazyRequire<CsvStringify>('csv-stringify/sync');

/** csv-stringify/sync's `stringify`. */
export const stringify = ((...args: Parameters<CsvStringify['stringify']>) =>
  load().stringify(...args)) as CsvStringify['stringify'];
