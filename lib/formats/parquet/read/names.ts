/**
 * Unique column names. Rows are objects keyed by name, so a file whose schema repeats a name
 * (`column, column_1, column`) or leaves one empty would lose a column. Every reader path (rows,
 * Arrow, inspect) renames the same way, with DuckDB's rule, so the names match DuckDB's
 * `read_parquet` output.
 */

/** One renamed column: its 0-based position, the name in the file and the name given to it. */
export interface RenamedColumn {
  readonly index: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Deterministic unique names, DuckDB's rule: names compare case-insensitively; a name already
 * taken gets `_k` appended, `k` counting the uses of that name from 1, and a candidate that is
 * itself taken is renamed again the same way (`a_1, a, a` -> `a_1, a, a_1_1`). Then an empty
 * name becomes `C<index>` (0-based position), renamed again should that be taken.
 * @returns the names, in the same order
 */
export function uniqueNames(names: readonly string[]): string[] {
  const next = new Map<string, number>();
  const claim = (name: string): string => {
    let candidate = name;
    for (;;) {
      const key = candidate.toLowerCase();
      const k = next.get(key);
      if (k === undefined) break;
      next.set(key, k + 1);
      candidate = `${candidate}_${k}`;
    }
    next.set(candidate.toLowerCase(), 1);
    return candidate;
  };
  const out = names.map(claim);
  for (const [i, name] of out.entries()) if (name === '') out[i] = claim(`C${i}`);
  return out;
}

/** The renames `uniqueNames` made (empty when every name was already unique and non-empty). */
export function renamedColumns(from: readonly string[], to: readonly string[]): RenamedColumn[] {
  const out: RenamedColumn[] = [];
  for (const [index, name] of from.entries()) if (to[index] !== name) out.push({ index, from: name, to: to[index]! });
  return out;
}

/** The part of hyparquet's FileMetaData that renaming touches. */
interface NamedMetadata {
  schema: { name: string; num_children?: number }[];
  row_groups: { columns: { meta_data?: { path_in_schema: string[] } }[] }[];
}

/**
 * Returns a copy of `metadata` where the children of every group (the root's columns, a
 * struct's fields) have unique names by {@link uniqueNames}, with each column chunk's
 * `path_in_schema` following its leaf's new path; and the top-level renames.
 */
export function withUniqueNames<M extends NamedMetadata>(metadata: M): { metadata: M; renamed: RenamedColumn[] } {
  const schema = metadata.schema.map((e) => ({ ...e }));
  const leafPaths: string[][] = [];
  let renamed: RenamedColumn[] = [];
  let changed = false;
  let i = 0;
  // renames the children of the group at schema[i - 1]; returns after its subtree
  const walkGroup = (count: number, path: string[], top: boolean): void => {
    const starts: number[] = [];
    const walkChild = (): void => {
      const at = i++;
      const e = schema[at];
      if (!e) return;
      starts.push(at);
      const children = e.num_children ?? 0;
      if (children > 0) {
        // names of this subtree are fixed after the siblings are known: walk later
        const subtreeStart = i;
        skip(children);
        pending.push({ at, subtreeStart });
      }
    };
    const pending: { at: number; subtreeStart: number }[] = [];
    for (let c = 0; c < count; c++) walkChild();
    const end = i;
    const original = starts.map((s) => schema[s]!.name);
    const unique = uniqueNames(original);
    for (const [k, s] of starts.entries()) schema[s]!.name = unique[k]!;
    if (unique.some((n, k) => n !== original[k])) changed = true;
    if (top) renamed = renamedColumns(original, unique);
    // now the leaves in order, with their final paths
    for (const s of starts) {
      const e = schema[s]!;
      const p = [...path, e.name];
      const sub = pending.find((q) => q.at === s);
      if (!sub) leafPaths.push(p);
      else {
        i = sub.subtreeStart;
        walkGroup(e.num_children ?? 0, p, false);
      }
    }
    i = end;
  };
  const skip = (count: number): void => {
    for (let c = 0; c < count; c++) {
      const e = schema[i++];
      if (e && (e.num_children ?? 0) > 0) skip(e.num_children!);
    }
  };
  i = 1;
  walkGroup(schema[0]?.num_children ?? 0, [], true);
  if (!changed) return { metadata, renamed };
  const row_groups = metadata.row_groups.map((g) => ({
    ...g,
    columns: g.columns.map((c, k) =>
      c.meta_data && leafPaths[k] ? { ...c, meta_data: { ...c.meta_data, path_in_schema: leafPaths[k]! } } : c,
    ),
  }));
  return { metadata: { ...metadata, schema, row_groups }, renamed };
}
