/**
 * The terminal face of progress: an event as one line of figures (formatted by lib/core/format.ts,
 * as the report and the dashboard format them), a bar of eighth blocks, and the renderer that
 * rewrites one live line on a terminal or writes plain lines elsewhere.
 */
import { terminalSafe } from './terminal-text.ts';
import { formatBytes, formatCount, formatDuration, formatPercent, formatRate } from '../core/format.ts';
import type { ProgressEvent, ProgressStream } from './progress-event.ts';

/** A fraction clamped into [0, 1], rounded to 1e-4. */
export function clamp(fraction: number): number {
  return Math.round(Math.min(1, Math.max(0, fraction)) * 1e4) / 1e4;
}

const BAR_WIDTH = 12;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** `▕███████▌    ▏`: a bar of eighth blocks. */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const eighths = Math.round(clamp(fraction) * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8] ?? '';
  return `▕${'█'.repeat(full)}${part}${' '.repeat(width - full - (part ? 1 : 0))}▏`;
}

/**
 * The figures of an event as one line, without the bar:
 * `61% 6.1M rows 1.9 GB 182k rows/s ETA 2 min 10 s mem 58% spilled 1.2 GB workers 2/2`.
 */
export function formatProgress(event: ProgressEvent): string {
  const parts: string[] = [];
  if (event.fraction !== undefined) parts.push(`${Math.floor(event.fraction * 100)}%`);
  parts.push(`${formatCount(event.rows)} rows`);
  if (event.bytes > 0) parts.push(formatBytes(event.bytes));
  parts.push(formatRate(event.rowsPerSec, 'rows'));
  if (event.state === 'running') {
    if (event.etaMs !== undefined) parts.push(`ETA ${formatDuration(event.etaMs)}`);
  } else parts.push(`in ${formatDuration(event.elapsedMs)}`);
  parts.push(
    event.memory.fraction !== undefined
      ? `mem ${formatPercent(event.memory.fraction)}`
      : `rss ${formatBytes(event.memory.rss)}`,
  );
  if (event.memory.level === 'pause') parts.push('(paused)');
  else if (event.memory.level === 'critical') parts.push('(critical)');
  if (event.spilledBytes > 0) parts.push(`spilled ${formatBytes(event.spilledBytes)}`);
  if (event.workers) parts.push(`workers ${event.workers.busy}/${event.workers.total}`);
  return terminalSafe(parts.join(' '));
}

const CLEAR_LINE = '\r\x1b[K';

/**
 * Draws events on a stream: on a terminal one line, rewritten in place (at most every `everyMs`)
 * and ended with a newline; elsewhere a plain line every `everyMs` (the first after `everyMs`,
 * so short runs stay quiet) and a last `done` line when any line was written.
 */
export class LineRenderer {
  readonly #stream: ProgressStream;
  readonly #everyMs: number;
  readonly #tty: boolean;
  #lastAt: number;
  #drawn = false;
  #writes = 0;

  constructor(stream: ProgressStream, everyMs: number, now = performance.now()) {
    this.#stream = stream;
    this.#everyMs = everyMs;
    this.#tty = stream.isTTY === true;
    // off a terminal the first line comes one interval in; on one, at the first sample
    this.#lastAt = this.#tty ? -Infinity : now;
  }

  /** Writes made so far (tests count them). */
  get writes(): number {
    return this.#writes;
  }

  /** Draws `event` if the last draw is at least the interval old. */
  update(event: ProgressEvent, now = performance.now()): void {
    if (now - this.#lastAt < this.#everyMs) return;
    this.#lastAt = now;
    if (this.#tty)
      this.#write(
        `${CLEAR_LINE}${this.#fit(`${event.fraction !== undefined ? `${progressBar(event.fraction)} ` : ''}${formatProgress(event)}`)}`,
      );
    else this.#write(`spillway: ${formatProgress(event)}\n`);
    this.#drawn = true;
  }

  /** The last line: on a terminal the live line becomes final; elsewhere a `done` line if any was written. */
  finish(event: ProgressEvent): void {
    if (!this.#drawn) return;
    if (this.#tty)
      this.#write(
        `${CLEAR_LINE}${this.#fit(`${event.fraction !== undefined ? `${progressBar(event.fraction)} ` : ''}${formatProgress(event)}`)}\n`,
      );
    else this.#write(`spillway: done ${formatProgress(event)}\n`);
    this.#drawn = false;
  }

  /** Removes the live line (a terminal); nothing to do elsewhere. */
  clear(): void {
    if (this.#drawn && this.#tty) this.#write(CLEAR_LINE);
    this.#drawn = false;
  }

  #fit(line: string): string {
    const columns = this.#stream.columns;
    if (!columns || columns < 10) return line;
    const chars = [...line];
    return chars.length < columns ? line : `${chars.slice(0, columns - 2).join('')}…`;
  }

  #write(text: string): void {
    this.#writes++;
    try {
      this.#stream.write(text);
    } catch {
      // a closed stderr must not fail the pipeline
    }
  }
}
