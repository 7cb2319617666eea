/**
 * Whether a fromCsv read goes to parser threads, and when not, why (for `stats`): only a local,
 * uncompressed UTF-8 file of at least {@link PARALLEL_CSV.minBytes}, read by the fast scanner into
 * Arrow, with known column names (a header the sniffer read, or names given), no comment lines,
 * no declared types (they cast rows), no checkpoint (a resumed run starts on one thread), and,
 * when memory is governed, {@link PARALLEL_CSV.threadRoom} bytes of headroom at the level `ok`.
 */
import type { CsvPlan } from '../read/options.ts';
import { PARALLEL_CSV } from './settings.ts';

/** What the decision needs to know about one read. */
export interface ParallelFacts {
  plan: CsvPlan;
  /** The reader chosen: `fast` or `csv-parse`. */
  kind: string;
  /** The file's settled encoding (UTF-16 is transcoded from the start: no byte ranges). */
  encoding: string;
  /** The file's size, for a file. */
  size: number | undefined;
  checkpointing: boolean;
  /** Rows are cast by a declared schema (or `cast: 'auto'`). */
  castsRows: boolean;
  comment: number | undefined;
  /** The column names when known before reading (sniffed header or given), undefined for array rows or none. */
  names: string[] | undefined;
  /** The run's memory governor, when governed: threads start only with room for them. */
  governor?: { readonly level: string; headroom(): number } | undefined;
}

/** `{ names }` when the read goes to threads, else `{ reason }`. */
export function parallelDecision(facts: ParallelFacts): { names: string[] } | { reason: string } {
  const { plan } = facts;
  if (PARALLEL_CSV.threads < 1) return { reason: 'no core to spare (parser threads: see PARALLEL_CSV.threads)' };
  if (plan.file === undefined) return { reason: 'a stream' };
  if (plan.compression !== undefined) return { reason: `${plan.compression} input` };
  if (facts.encoding === 'utf16le') return { reason: 'UTF-16 input (transcoded to UTF-8 from the start)' };
  if (facts.kind !== 'fast') return { reason: 'csv-parse reader' };
  if (plan.output !== 'arrow') return { reason: 'rows output' };
  if (facts.checkpointing) return { reason: 'checkpointing' };
  if (facts.castsRows) return { reason: 'declared column types' };
  if (facts.comment !== undefined) return { reason: 'comment lines' };
  if (facts.names === undefined) return { reason: 'no column names before reading' };
  if (facts.size === undefined || facts.size < PARALLEL_CSV.minBytes) return { reason: 'small file' };
  const governor = facts.governor;
  if (governor !== undefined) {
    if (governor.level !== 'ok') return { reason: `memory at the governor's ${governor.level} level` };
    const room = governor.headroom();
    if (room < PARALLEL_CSV.threadRoom)
      return {
        reason: `${Math.round(room / 1e6)} MB below the governor's pause mark, under the ${Math.round(PARALLEL_CSV.threadRoom / 1e6)} MB parser threads need`,
      };
  }
  return { names: facts.names };
}
