/**
 * The checkpoint file: what `checkpoint.json` holds, the identity of an input file (a changed
 * file is refused on resume), and reading, finding and removing a checkpoint.
 */
import { nodeCrypto } from '../core/crypto.ts';
import { open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from '../core/errors.ts';

/** A JSON value, as checkpoint states are written. */
export type CheckpointJson = string | number | boolean | null | CheckpointJson[] | { [key: string]: CheckpointJson };

/** Name of the checkpoint file inside its directory. */
export const CHECKPOINT_FILE = 'checkpoint.json';
/** The `format` field of every checkpoint file. */
export const FORMAT = 'spillway-checkpoint';
/** The version of the checkpoint file this code writes and reads. */
export const VERSION = 1;
const EDGE_BYTES = 1024;

/** Identity of an input file: a changed file is refused. */
export interface InputIdentity {
  file: string;
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first and last KB. */
  edges: string;
}

/** The contents of `checkpoint.json`. */
export interface CheckpointRecord {
  format: typeof FORMAT;
  version: number;
  /** SHA-256 of the stages' kinds, names and identities. */
  pipeline: string;
  /** The stages, for people reading the file. */
  stages: string[];
  /** SHA-256 of each part of `pipeline` (the stages, each stage's code, the source's and the sink's options): what differs, when a rerun's does. */
  parts?: Record<string, string>;
  input: InputIdentity | null;
  /** Logical sink rows of every source batch up to the resume point. */
  through: number;
  /** Logical sink rows durably written (through + rows to skip on resume). */
  committed: number;
  source: CheckpointJson;
  sink: CheckpointJson;
  commits: number;
  updatedAt: string;
}

/** Size, mtime and a hash of the first and last KB of `file`. */
export async function inputIdentity(file: string): Promise<InputIdentity> {
  const resolved = path.resolve(file);
  const handle = await open(resolved, 'r');
  try {
    const info = await handle.stat();
    const hash = nodeCrypto().createHash('sha256');
    const head = Buffer.alloc(Math.min(EDGE_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    const tailLength = Math.min(EDGE_BYTES, info.size);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, info.size - tailLength);
    hash.update(tail);
    return { file: resolved, size: info.size, mtimeMs: info.mtimeMs, edges: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** Reads a checkpoint file; undefined when there is none. */
export async function readCheckpoint(dir: string): Promise<CheckpointRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(`Cannot read the checkpoint: ${(error as Error).message}`, { dir }, { cause: error });
  }
  let record: CheckpointRecord;
  try {
    record = JSON.parse(text) as CheckpointRecord;
  } catch (error) {
    throw new CheckpointError(
      `The checkpoint file is not valid JSON: ${(error as Error).message}`,
      { dir, file: CHECKPOINT_FILE },
      { cause: error },
    );
  }
  if (
    record?.format !== FORMAT ||
    record.version !== VERSION ||
    typeof record.committed !== 'number' ||
    typeof record.through !== 'number'
  ) {
    throw new CheckpointError(`${CHECKPOINT_FILE} is not a spillway checkpoint of version ${VERSION}`, {
      dir,
      file: CHECKPOINT_FILE,
    });
  }
  return record;
}

/** Removes a checkpoint directory and everything in it (to start a pipeline over). */
export async function removeCheckpoint(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** True when `dir` holds a checkpoint. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return stat(path.join(dir, CHECKPOINT_FILE)).then(
    () => true,
    () => false,
  );
}
