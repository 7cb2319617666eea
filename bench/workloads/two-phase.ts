/**
 * The two-phase groupBy bench's worker module (bench/two-phase.ts): each batch grouped by symbol
 * into partial states. `light` holds built-in aggregates only; `heavy` adds a user-defined
 * aggregate that does real work per row (a hash of the row's note, 200 rounds), as a scoring or
 * parsing aggregate would.
 */
import { agg, partialGroups, type Aggregate } from 'spillway';

/** The xor of an FNV-style hash of each row's note (200 rounds a row): order-free, so states merge by xor. */
const digest: Aggregate<number, number> = {
  init: () => 0,
  add: (state, row) => {
    const note = (row as { note: string | null }).note ?? '';
    let h = 0;
    for (let round = 0; round < 200; round++)
      for (let i = 0; i < note.length; i += 8) h = Math.imul(h ^ note.charCodeAt(i), 16777619) >>> 0;
    return (state ^ h) >>> 0;
  },
  merge: (a, b) => (a ^ b) >>> 0,
  finish: (state) => state,
};

export const light = { n: agg.count(), volume: agg.sum('qty'), avg: agg.mean('price') };
export const heavy = { ...light, digest };

export const partialLight = partialGroups('symbol', light);
export const partialHeavy = partialGroups('symbol', heavy);
