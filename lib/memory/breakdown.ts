/**
 * What holds memory, in words, for the errors the governor raises. "290 MB of a 300 MB limit"
 * says nothing a user can act on; the split into V8 heap, memory outside it (Buffers, Arrow),
 * child processes and what the C allocator keeps after it was freed tells a leak in user code
 * from data held by stages or from fragmentation.
 */
import { formatBytes } from '../core/format.ts';

/** The figures a breakdown is made of (a governor sample has them all). */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  /** V8 heap reserved (used plus free pages); 0 when unknown. */
  heapTotal?: number;
  /** V8's heap limit (`heap_size_limit`). */
  heapLimit: number;
  /** Heap the process may fill before V8 aborts it; shown as the heap's limit when given. */
  heapUsable?: number;
  external: number;
  arrayBuffers: number;
  childrenRss: number;
}

/** Memory by holder, bytes. */
export interface MemoryBreakdown {
  heapUsed: number;
  heapTotal: number;
  /** The heap the process may fill (the usable limit when known, else V8's heap limit). */
  heapLimit: number;
  /** Memory of C++ objects bound to JS objects (Buffers, Arrow data), including `arrayBuffers`. */
  external: number;
  arrayBuffers: number;
  childrenRss: number;
  /**
   * RSS not explained by the heap or external memory: freed memory the allocator keeps (glibc
   * arenas), native libraries, stacks and code. Roughly `rss - (heapTotal + external)`, at least 0.
   */
  allocatorRetained: number;
}

/** Splits `figures` by holder. */
export function memoryBreakdown(figures: MemoryFigures): MemoryBreakdown {
  const heapTotal = figures.heapTotal ?? figures.heapUsed;
  return {
    heapUsed: figures.heapUsed,
    heapTotal,
    heapLimit: figures.heapUsable !== undefined && figures.heapUsable > 0 ? figures.heapUsable : figures.heapLimit,
    external: figures.external,
    arrayBuffers: figures.arrayBuffers,
    childrenRss: figures.childrenRss,
    allocatorRetained: Math.max(0, figures.rss - heapTotal - figures.external),
  };
}

/** One line naming what holds memory, e.g. `heap 180 MB used (of 190 MB reserved, limit 4 GB), external 40 MB (...)`. */
export function describeBreakdown(figures: MemoryFigures): string {
  const b = memoryBreakdown(figures);
  return [
    `V8 heap ${formatBytes(b.heapUsed)} used (${formatBytes(b.heapTotal)} reserved, heap limit ${formatBytes(b.heapLimit)})`,
    `external ${formatBytes(b.external)} (array buffers ${formatBytes(b.arrayBuffers)})`,
    `child processes ${formatBytes(b.childrenRss)}`,
    `allocator-retained and native ~${formatBytes(b.allocatorRetained)} (RSS ${formatBytes(figures.rss)} - heap reserved - external)`,
  ].join(', ');
}
