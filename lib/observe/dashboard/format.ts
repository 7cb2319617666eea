/**
 * Number and text formatting shared by the dashboard, its charts and the HTML report: short
 * figures people read at a glance (`6.1M`, `1.9 GB`, `2m10s`) and HTML escaping.
 */
import { formatBytes } from '../../core/validate.ts';

export { formatBytes };

/** A count in short form: `812`, `6.1k`, `6.1M`, `1.2G`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs < 1e3) return String(Math.round(n * 10) / 10);
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const value = n / size;
      return `${value.toFixed(Math.abs(value) >= 100 ? 0 : 1)}${unit}`;
    }
  }
  return String(n);
}

/** A duration: `850ms`, `12.3s`, `2m10s`, `1h05m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(sec).padStart(2, '0')}s`;
}

/** A percentage of a fraction: `61%`, `0.5%`. */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  const p = fraction * 100;
  return `${p < 10 && p !== 0 ? p.toFixed(1) : Math.round(p)}%`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and XML (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
