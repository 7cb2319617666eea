/**
 * What the main thread asks a parser thread and what it answers, and the work itself as a plain
 * function (so it runs the same on a thread or, for a fallback, on the main thread).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { int32AsDouble } from '../../arrow/int32-as-double.ts';
import { RangeParser, type BadRecord, type RangeOptions } from './range-parser.ts';
import type { DelimiterKind } from '../fast/record-delimiter.ts';
import { postBatch, type PostedBatch } from './transfer.ts';

/** One range to parse. Offsets are absolute bytes of the file. */
export interface RangeTask {
  id: number;
  file: string;
  /** Where scanning starts: a record boundary known or assumed. */
  parseFrom: number;
  /** Records ending at or before this offset are dropped (a fallback re-scans from an earlier boundary). */
  emitFrom: number;
  /** End of the range (exclusive). */
  to: number;
  /** The range reaches the end of the file: its last record may lack a delimiter. */
  final: boolean;
  /** Int32 columns become Float64 (negotiated Arrow, see lib/formats/arrow/int32-as-double.ts). */
  doubles: boolean;
  options: RangeOptions;
}

/** A thread's answer: the range's batches (lines and bytes relative to `parseFrom`) and its end state. */
export interface RangeReply {
  id: number;
  batches: PostedBatch[];
  bad: BadRecord[];
  header: string[] | undefined;
  /** End of the last record scanned, relative to `parseFrom`. */
  lastEnd: number;
  /** Line the next record would start on, relative to `parseFrom` (1-based). */
  lineStart: number;
  delimiter: DelimiterKind;
  /** The range failed to parse (fail mode, or a limit): the main thread parses it again to raise the error itself. */
  failed: boolean;
}

/** Reads `[from, to)` of `file`. */
export function readRange(file: string, from: number, to: number): Buffer {
  const bytes = Buffer.allocUnsafeSlow(to - from);
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, from + done);
      if (n === 0) break;
      done += n;
    }
    return done === bytes.length ? bytes : bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Parses a task's range; returns the reply and the buffers to transfer with it. */
export function runRangeTask(task: RangeTask): { reply: RangeReply; transfer: ArrayBuffer[] } {
  const parser = new RangeParser(task.options, task.emitFrom - task.parseFrom);
  let failed = false;
  try {
    const bytes = readRange(task.file, task.parseFrom, task.to);
    parser.push(bytes);
    // a range that ends on a record's end has nothing pending: ending it only seals the last batch;
    // one that ends inside a record (a quoted field across the cut) is not delivered at all
    if (task.final || parser.lastEnd === bytes.length) parser.end();
    else failed = true;
  } catch {
    failed = true;
  }
  const batches: PostedBatch[] = [];
  const transfer: ArrayBuffer[] = [];
  if (!failed) {
    for (const batch of parser.take()) {
      const posted = postBatch(task.doubles && batch.arrow ? { ...batch, arrow: int32AsDouble(batch.arrow) } : batch);
      batches.push(posted.posted);
      transfer.push(...posted.transfer);
    }
  }
  const reply: RangeReply = {
    id: task.id,
    batches,
    bad: parser.bad,
    header: parser.header,
    lastEnd: parser.lastEnd,
    lineStart: parser.lineStart,
    delimiter: parser.delimiter,
    failed,
  };
  // a buffer listed twice cannot be transferred
  return { reply, transfer: [...new Set(transfer)] };
}
