/**
 * Figures for people, formatted one way everywhere: the terminal progress line, the text and
 * HTML reports, the dashboard, the CLI and log messages all call these, so the same figure
 * reads the same in each (`1.2 GB`, `12.3 s`, `6.1M rows`, `182k rows/s`, `61%`).
 *
 * Rules: decimal (SI) prefixes, as `parseBytes` reads them; below 100 of a unit one decimal,
 * from 100 none; a space between a number and a unit word (`GB`, `s`), none before a count's
 * prefix (`6.1M`); a figure that is not finite reads `–`. Lives in core because the governor
 * and the validators format bytes too.
 */

const NOT_A_FIGURE = '–';

/** One decimal below 100 of a unit, none from 100. */
function digits(v: number): string {
  return Math.abs(v) >= 99.95 ? String(Math.round(v)) : v.toFixed(1);
}

/**
 * `value` in the largest unit of `units` (each 1000 times the last) that it reaches, or
 * undefined below the first. The unit is chosen after rounding, so 999 960 reads `1.0M`, never `1000k`.
 */
function scaled(value: number, units: readonly string[], separator: string): string | undefined {
  const base = 1e3;
  if (Math.round(Math.abs(value)) < base) return undefined;
  let i = 0;
  let v = value / base;
  while (i < units.length - 1 && Math.abs(Number(digits(v))) >= base) {
    v /= base;
    i++;
  }
  return `${digits(v)}${separator}${units[i]!}`;
}

/** Bytes: `12 B`, `512 kB`, `1.9 GB`, `120 TB` (decimal units, as `parseBytes` reads them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return NOT_A_FIGURE;
  return scaled(bytes, ['kB', 'MB', 'GB', 'TB', 'PB'], ' ') ?? `${Math.round(bytes)} B`;
}

/** A count in short form: `950`, `18.2k`, `182k`, `6.1M`, `1.2G`, `3.0T`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return NOT_A_FIGURE;
  return scaled(n, ['k', 'M', 'G', 'T'], '') ?? String(Math.round(n));
}

/** A duration: `380 ms`, `4.2 s`, `45.0 s`, `2 min 10 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return NOT_A_FIGURE;
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A rate per second: `182k rows/s` for a count with its noun, `45.2 MB/s` for bytes. */
export function formatRate(perSecond: number, unit: 'bytes' | (string & {})): string {
  if (!Number.isFinite(perSecond)) return NOT_A_FIGURE;
  return unit === 'bytes' ? `${formatBytes(perSecond)}/s` : `${formatCount(perSecond)} ${unit}/s`;
}

/** A fraction as a percentage: `61%`, `0.5%`, `0%`, `100%`. */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return NOT_A_FIGURE;
  const p = fraction * 100;
  return `${p !== 0 && Math.abs(p) < 9.95 ? p.toFixed(1) : Math.round(p)}%`;
}

/** A count in full, where every unit matters (final reports, file summaries): `6,100,000`. */
export function formatExact(n: number): string {
  if (!Number.isFinite(n)) return NOT_A_FIGURE;
  return Math.round(n).toLocaleString('en-US');
}
