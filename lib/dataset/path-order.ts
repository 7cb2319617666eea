/**
 * The order a dataset's files are read in: by path, with each run of digits compared as the
 * number it spells, so that `part-2` comes before `part-10` (a partition that rotated past ten
 * files read back out of the order it was written in, when paths compared as plain text), and
 * `id=9` before `id=10`. Everything else compares by UTF-16 code unit; paths equal that way
 * (`01` and `1`) fall back to plain text, so the order is total and stable.
 */

/** Negative when `a` comes before `b`; see the module comment. */
export function comparePaths(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ea = digitsEnd(a, i);
      const eb = digitsEnd(b, j);
      const byNumber = compareDigits(a, i, ea, b, j, eb);
      if (byNumber !== 0) return byNumber;
      i = ea;
      j = eb;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  if (i < a.length || j < b.length) return i < a.length ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}

/** Compares two digit runs by value (leading zeros skipped, then length, then digit by digit). */
function compareDigits(a: string, i: number, ea: number, b: string, j: number, eb: number): number {
  while (i < ea - 1 && a.charCodeAt(i) === 48) i++;
  while (j < eb - 1 && b.charCodeAt(j) === 48) j++;
  if (ea - i !== eb - j) return ea - i - (eb - j);
  for (; i < ea; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d;
  }
  return 0;
}
