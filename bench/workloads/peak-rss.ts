/**
 * Peak RSS of this process, in bytes. On Linux it is VmHWM from /proc/self/status: the high-water
 * mark of this process's own memory. `process.resourceUsage().maxRSS` is not usable in a child
 * process: Linux carries the parent's peak across fork and exec, so a bench child started by a
 * bench runner holding 400 MB reports at least 400 MB whatever it used itself.
 */
import { readFileSync } from 'node:fs';

export function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}
