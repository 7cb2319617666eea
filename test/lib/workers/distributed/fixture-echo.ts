/** A worker module for the distributed tests: returns each row as it came (exactness checks), or a copy with a note. */
export default function echo(row: unknown): unknown {
  return row;
}

/** A batch function returning its input batch unchanged. */
export function batch(rows: unknown[]): unknown[] {
  return rows;
}
