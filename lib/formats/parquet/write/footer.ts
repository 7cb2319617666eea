/**
 * The end of a Parquet file: the footer (FileMetaData in Thrift compact form), its length and the
 * closing magic bytes. `created_by` names spillway and its version.
 */
import { packageVersion } from '../../../core/version.ts';
import { fileMetadata } from '../encode/metadata.ts';
import type { RowGroupMeta, SchemaColumn } from '../encode/metadata.ts';

/** `PAR1`, at the start and the end of every Parquet file. */
export const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

/** `spillway version X`, read once from the package's package.json. */
const CREATED_BY = `spillway version ${packageVersion()}`;

/** The footer, its little-endian length and `PAR1`: the bytes that close the file. */
export function fileTail(columns: readonly SchemaColumn[], groups: readonly RowGroupMeta[]): Uint8Array {
  const meta = fileMetadata(columns, groups, CREATED_BY);
  const tail = new Uint8Array(meta.length + 8);
  tail.set(meta);
  new DataView(tail.buffer).setUint32(meta.length, meta.length, true);
  tail.set(MAGIC, meta.length + 4);
  return tail;
}
