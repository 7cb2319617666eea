/**
 * Whether two paths name one file, by the file itself (device and inode), not by how the paths
 * are spelled: `./x.csv`, `sub/../x.csv`, a symlink and a hard link all match. For the guards that
 * keep a run from writing over what it reads (a dead-letter file, `spillway convert`'s output).
 */
import { statSync } from 'node:fs';

/** The file's identity (`dev:ino`), or undefined when it does not exist or cannot be stat'ed. */
export function fileIdentity(path: string): string | undefined {
  try {
    const info = statSync(path, { bigint: true, throwIfNoEntry: false });
    return info === undefined ? undefined : `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

/** True when `a` and `b` are one existing file. */
export function sameFile(a: string, b: string): boolean {
  const id = fileIdentity(a);
  return id !== undefined && id === fileIdentity(b);
}
