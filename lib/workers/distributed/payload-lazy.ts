/**
 * The payload codec (lib/workers/distributed/payload.ts) loaded on first use: it encodes with
 * apache-arrow, which `import 'spillway'` must not load (issue 17 item 8). The BullMQ backend
 * reaches it from async paths only.
 */
import { lazyImport } from '../../core/lazy-import.ts';

/** payload.ts, imported on the first batch that is sent or received. */
export const payloadModule = lazyImport(() => import('./payload.ts'));
