/**
 * HTML escaping shared by the dashboard, its charts and the HTML report. Figures (counts, bytes,
 * durations, percentages) come from lib/core/format.ts, as in the terminal and the text report.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and XML (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
