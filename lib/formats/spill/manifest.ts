/**
 * The spill manifest: `manifest.json` in the spill directory lists, in order, every committed
 * spill file with its rows, batches, bytes and CRC-32, and the schema of each segment. It is
 * rewritten atomically (temporary file, fsync, rename) after every committed file, so a crash or
 * a full disk leaves the previous manifest, whose files are all complete. A manifest may come
 * from elsewhere: reading it checks its shape and refuses file names that leave the directory.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { restoreEmptyNames } from '../arrow/repeated-names.ts';
import { SpillError, SpillCorruptError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../io/atomic-file.ts';
import { crc32, crcHex } from '../checksum.ts';

/** The manifest's file name inside the spill directory. */
export const MANIFEST_NAME = 'manifest.json';

/**
 * The manifest's seal, written beside it after every manifest write: `CRC32 FILES ROWS` of the
 * manifest text. A manifest edited by hand (or by a tool that does not know the seal) no longer
 * matches it. What it cannot catch: an editor who also rewrites the seal, which is public
 * arithmetic, not a secret (docs/spill.md, "Spill manifests: what tampering is detected").
 */
export const SEAL_NAME = 'manifest.seal';
/** Value of {@link SpillManifest.format}. */
export const MANIFEST_FORMAT = 'spillway-spill';
/** Manifest layout version this code writes and reads. */
export const MANIFEST_VERSION = 1;

/** One committed spill file. */
export interface SpillFileEntry {
  /** File name, relative to the spill directory (no separators). */
  name: string;
  /** Index into {@link SpillManifest.segments}: the schema of every batch in the file. */
  segment: number;
  rows: number;
  batches: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Uncompressed Arrow bytes of its batches (what they take in memory once decoded). */
  rawBytes: number;
  /** CRC-32 of the whole file, 8 hex digits. */
  crc32: string;
  /** Rows of each batch. */
  batchRows: number[];
  /** Per batch: `[offset, length, crc32 hex]` of its message in the file. */
  batchRanges: [number, number, string][];
  /**
   * Per batch, where it came from: `r` for rows (64-bit integers replay as bigint, as they were)
   * or `a` for Arrow batches (replayed as `Batch` rows replay them: `int64: 'auto'`).
   */
  origins: string;
}

/** A run of files sharing one schema. */
export interface SpillSegment {
  /** The schema as a base64 Arrow IPC stream holding only the schema. */
  schema: string;
  /** The same schema in words, for people and `spillway inspect`. */
  fields: { name: string; type: string; nullable: boolean }[];
}

/** Contents of `manifest.json`. */
export interface SpillManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Body compression of the files. */
  compression: 'lz4' | 'zstd' | 'none';
  /** Rows in the files listed. */
  numRows: number;
  /** Batches in the files listed. */
  numBatches: number;
  /** Sum of the files' sizes. */
  bytesOnDisk: number;
  /**
   * True when the files hold the whole dataset (the sink finished and flushed everything); false
   * while writing, or when the writing process kept its last batches in memory.
   */
  complete: boolean;
  /** Rows the writing process kept in memory, not on disk (0 when complete). */
  rowsInMemory: number;
  segments: SpillSegment[];
  files: SpillFileEntry[];
}

/** Encodes a schema for the manifest. */
export function encodeSchema(schema: Schema): SpillSegment {
  const bytes = tableToIPC(new Table(schema), 'stream');
  return {
    schema: Buffer.from(bytes).toString('base64'),
    fields: schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
  };
}

/** Decodes a segment's schema. */
export function decodeSchema(segment: SpillSegment, dir: string): Schema {
  try {
    const schema = tableFromIPC(Buffer.from(segment.schema, 'base64')).schema;
    // an empty name is left out of the IPC bytes (repeated-names.ts); the words keep it
    restoreEmptyNames(schema.fields);
    const names = segment.fields.map((f) => f.name);
    if (names.length !== schema.fields.length || schema.fields.every((f, i) => f.name === names[i])) return schema;
    return new Schema(
      schema.fields.map((f, i) => (f.name === names[i] ? f : f.clone({ name: names[i]! }))),
      schema.metadata,
      schema.dictionaries,
    );
  } catch (error) {
    throw new SpillError(
      'The spill manifest holds a schema that cannot be decoded',
      { dir, file: MANIFEST_NAME },
      { cause: error },
    );
  }
}

/** A fresh, empty manifest. */
export function emptyManifest(compression: SpillManifest['compression']): SpillManifest {
  const now = new Date().toISOString();
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    createdAt: now,
    updatedAt: now,
    compression,
    numRows: 0,
    numBatches: 0,
    bytesOnDisk: 0,
    complete: false,
    rowsInMemory: 0,
    segments: [],
    files: [],
  };
}

/**
 * Writes `manifest` to `dir/manifest.json` atomically: a temporary file (mode 0600), fsync,
 * rename. Throws {@link SpillError} naming the directory; the previous manifest is then intact.
 */
export async function writeManifest(dir: string, manifest: SpillManifest): Promise<void> {
  manifest.updatedAt = new Date().toISOString();
  const target = path.join(dir, MANIFEST_NAME);
  const text = `${JSON.stringify(manifest, null, 1)}\n`;
  try {
    // the seal first: only a complete manifest is checked against it, so a reader between the two
    // renames (or a kill there) meets the old manifest, incomplete, never a complete one with the
    // old seal, which read as tampered with and, left by a kill, refused the spill for good
    await writeFileAtomic(path.join(dir, SEAL_NAME), sealOf(text, manifest), { mode: 0o600 });
    await writeFileAtomic(target, text, { mode: 0o600 });
  } catch (error) {
    throw new SpillError(
      `Cannot write the spill manifest: ${(error as Error).message}`,
      { dir, file: MANIFEST_NAME },
      { cause: error },
    );
  }
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws unless `name` is a plain file name that resolves inside `dir`. */
export function checkFileName(dir: string, name: unknown): string {
  if (typeof name !== 'string' || !SAFE_NAME.test(name) || name.includes('..')) {
    throw new SpillError(
      `The spill manifest names a file ${JSON.stringify(name)} outside its directory; refusing to read it`,
      { dir, file: MANIFEST_NAME },
    );
  }
  const resolved = path.resolve(dir, name);
  if (path.dirname(resolved) !== path.resolve(dir)) {
    throw new SpillError(
      `The spill manifest names a file ${JSON.stringify(name)} outside its directory; refusing to read it`,
      { dir, file: MANIFEST_NAME },
    );
  }
  return resolved;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Reads and checks `dir/manifest.json`. Throws {@link SpillError} when it is missing, not JSON,
 * of another format or version, inconsistent, or names a file outside `dir`.
 */
function sealOf(text: string, manifest: Pick<SpillManifest, 'files' | 'numRows'>): string {
  return `${crcHex(crc32(Buffer.from(text)))} ${manifest.files.length} ${manifest.numRows}\n`;
}

/**
 * Checks a complete manifest against its seal and the directory: the seal must match the text
 * (spills written before seals existed have none and pass), and no spill file may sit in the
 * directory unlisted (a last file dropped from the manifest, totals fixed, file left in place).
 * Throws {@link SpillCorruptError}.
 */
export async function checkSeal(
  dir: string,
  manifest: SpillManifest,
  text: string,
  names: readonly string[],
): Promise<void> {
  const listed = new Set(manifest.files.map((f) => f.name));
  const stray = names.filter((n) => /^spill-\d+\.arrow$/.test(n) && !listed.has(n));
  if (stray.length > 0) {
    throw new SpillCorruptError(
      `The spill directory holds ${stray.join(', ')}, which the manifest does not list: the manifest was edited or is not this directory's`,
      { dir, file: MANIFEST_NAME },
    );
  }
  let seal: string;
  try {
    seal = await readFile(path.join(dir, SEAL_NAME), 'utf8');
  } catch {
    return; // written before seals existed
  }
  if (seal !== sealOf(text, manifest)) {
    throw new SpillCorruptError(
      `The spill manifest does not match its seal (${SEAL_NAME}): it was edited after it was written`,
      { dir, file: MANIFEST_NAME },
    );
  }
}

/** Reads the manifest's text (for {@link checkSeal}). */
export async function readManifestText(dir: string): Promise<string> {
  return readFile(path.join(dir, MANIFEST_NAME), 'utf8');
}

export async function readManifest(dir: string): Promise<SpillManifest> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_NAME), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // a path that is not there at all says so, not that a file inside it is missing
    const why =
      code === 'ENOENT' && !existsSync(dir)
        ? 'it does not exist'
        : `cannot read ${MANIFEST_NAME} (${code ?? (error as Error).message})`;
    throw new SpillError(`Not a spill directory: ${why}`, { dir }, { cause: error });
  }
  let data: SpillManifest;
  try {
    data = JSON.parse(text) as SpillManifest;
  } catch (error) {
    throw new SpillError(`The spill manifest is not valid JSON`, { dir, file: MANIFEST_NAME }, { cause: error });
  }
  const bad = (why: string): never => {
    throw new SpillError(`The spill manifest is invalid: ${why}`, { dir, file: MANIFEST_NAME });
  };
  if (data === null || typeof data !== 'object') bad('not an object');
  if (data.format !== MANIFEST_FORMAT) bad(`format is ${JSON.stringify(data.format)}, expected "${MANIFEST_FORMAT}"`);
  if (data.version !== MANIFEST_VERSION)
    bad(`version ${String(data.version)} is not supported (expected ${MANIFEST_VERSION})`);
  if (!['lz4', 'zstd', 'none'].includes(data.compression))
    bad(`unknown compression ${JSON.stringify(data.compression)}`);
  if (!Array.isArray(data.files) || !Array.isArray(data.segments)) bad('files and segments must be arrays');
  if (!isCount(data.rowsInMemory) || typeof data.complete !== 'boolean') bad('rowsInMemory/complete missing');
  let rows = 0;
  let batches = 0;
  let bytes = 0;
  const seen = new Set<string>();
  for (const [i, f] of data.files.entries()) {
    if (f === null || typeof f !== 'object') bad(`files[${i}] is not an object`);
    checkFileName(dir, f.name);
    if (seen.has(f.name)) bad(`files[${i}] repeats ${f.name}`);
    seen.add(f.name);
    if (![f.segment, f.rows, f.batches, f.bytes, f.rawBytes].every(isCount)) bad(`files[${i}] has a bad count`);
    if (f.segment >= data.segments.length) bad(`files[${i}] names segment ${f.segment} of ${data.segments.length}`);
    if (typeof f.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(f.crc32)) bad(`files[${i}] has a bad crc32`);
    if (!Array.isArray(f.batchRows) || f.batchRows.length !== f.batches || !f.batchRows.every(isCount))
      bad(`files[${i}].batchRows does not match its batches`);
    if (f.batchRows.reduce((a, b) => a + b, 0) !== f.rows) bad(`files[${i}].batchRows does not add up to its rows`);
    if (!Array.isArray(f.batchRanges) || f.batchRanges.length !== f.batches)
      bad(`files[${i}].batchRanges does not match its batches`);
    for (const r of f.batchRanges) {
      if (!Array.isArray(r) || !isCount(r[0]) || !isCount(r[1]) || typeof r[2] !== 'string' || r[0] + r[1] > f.bytes)
        bad(`files[${i}] has a batch range outside the file`);
    }
    if (typeof f.origins !== 'string' || f.origins.length !== f.batches || !/^[ra]*$/.test(f.origins))
      bad(`files[${i}].origins does not match its batches`);
    rows += f.rows;
    batches += f.batches;
    bytes += f.bytes;
  }
  for (const [i, s] of data.segments.entries()) {
    if (s === null || typeof s !== 'object' || typeof s.schema !== 'string' || !Array.isArray(s.fields))
      bad(`segments[${i}] is invalid`);
  }
  if (data.numRows !== rows || data.numBatches !== batches || data.bytesOnDisk !== bytes)
    bad('totals do not match its files');
  return data;
}
