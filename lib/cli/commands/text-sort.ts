/**
 * `spillway convert in.csv out.csv --sort ...`: rows sorted as their values order them, every cell
 * written back as it was read. Reading the CSV typed (as a typed output format does) rewrote every
 * cell of every column (`00501` became `501`, `10.50` `10.5`, `9007199254740993.0` lost its last
 * digit) and refused a text column holding one numeric-looking value ("mixes string and int32").
 *
 * So the cells stay text, and each sort key gets three hidden columns beside them: its kind (a
 * number, then text; an empty cell is null and goes where the key's nulls go), its number (the
 * value `cast: true` reads, which orders numbers as numbers), and its text (which orders text,
 * and numbers that are equal). A column of numbers thus sorts as numbers, a column of text as
 * text (UTF-8 bytes), and a column mixing both puts its numbers first (last when descending).
 * The hidden columns are dropped before the rows are written.
 */
import type { Row } from '../../core/batch.ts';
import { inferCell } from '../../formats/csv/cast.ts';
import type { SortKey } from '../../operators/sort-key-spec.ts';
import { map } from '../../../transforms/map.ts';
import { sort } from '../../../transforms/sort.ts';

/** Kind ranks of a hidden kind column. */
const NUMBER = 1;
const TEXT = 2;

/** The stages sorting text rows by `keys` (see the module comment). */
export function textSortStages(
  keys: readonly SortKey[],
): [ReturnType<typeof map>, ReturnType<typeof sort>, ReturnType<typeof map>] {
  const hidden = keys.map((_, i) => ({ kind: `\u0000sort${i}k`, num: `\u0000sort${i}n`, text: `\u0000sort${i}t` }));
  const addKeys = map((row: Row) => {
    const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
    keys.forEach((key, i) => {
      const cell = (row as Record<string, unknown>)[key.column];
      const text = cell === null || cell === undefined || cell === '' ? null : String(cell);
      const value = text === null ? null : inferCell(text);
      const names = hidden[i]!;
      const numeric = typeof value === 'number' || typeof value === 'bigint';
      out[names.kind] = text === null ? null : numeric ? NUMBER : TEXT;
      out[names.num] = numeric ? Number(value) : null;
      out[names.text] = text;
    });
    return out;
  });
  const sortKeys = keys.flatMap((key, i) => {
    const names = hidden[i]!;
    const order = key.order ?? 'asc';
    return [
      { column: names.kind, order, nulls: key.nulls ?? 'last' },
      { column: names.num, order },
      { column: names.text, order },
    ];
  });
  const dropKeys = map((row: Row) => {
    const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
    for (const names of hidden) {
      delete out[names.kind];
      delete out[names.num];
      delete out[names.text];
    }
    return out;
  });
  return [addKeys, sort(sortKeys), dropKeys];
}
