/**
 * Arrow decimals and their exact text. Rows hold a decimal as exact text (`'-120.375'`, what
 * {@link decimalText} writes from the value's words); {@link decimalWords} reads such text back
 * into the words of a Decimal column of a given scale, so a column that went through rows (a
 * group's key, a dataset file's missing column filled with nulls) is built as the decimal it was.
 * Words are the value's two's complement, 32 bits each, least significant first (Arrow's layout).
 */

/** The value at word `at` (`stride` words) of a Decimal column of `scale`, as exact text. */
export function decimalText(words: Uint32Array, at: number, stride: number, scale: number): string {
  let v = 0n;
  for (let w = stride - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[at + w]!);
  const bits = BigInt(stride * 32);
  if (v >> (bits - 1n)) v -= 1n << bits;
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) digits += '0'.repeat(-scale);
  return negative ? `-${digits}` : digits;
}

const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d*))?$/;

/**
 * The unscaled value of `value` in a decimal of `precision` digits and `scale`: decimal text as
 * {@link decimalText} writes it (more fraction digits only when they are zeros), a bigint, or a
 * safe integer. Undefined when it has no exact value there (a fraction the scale cannot hold, too
 * many digits, a number that is not an integer: a double is not an exact decimal).
 */
export function unscaledDecimal(value: unknown, precision: number, scale: number): bigint | undefined {
  let negative: boolean;
  let whole: string;
  let fraction = '';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) {
    negative = value < 0;
    whole = (negative ? -BigInt(value) : BigInt(value)).toString();
  } else {
    const m = typeof value === 'string' ? DECIMAL_TEXT.exec(value) : null;
    if (!m) return undefined;
    negative = m[1] === '-';
    whole = m[2]!;
    fraction = m[3] ?? '';
  }
  // digits past the scale are refused unless they are zeros: no rounding
  if (/[^0]/.test(fraction.slice(Math.max(0, scale)))) return undefined;
  let units: bigint;
  if (scale >= 0) units = BigInt(whole + fraction.slice(0, scale).padEnd(scale, '0'));
  else {
    const unit = 10n ** BigInt(-scale);
    units = BigInt(whole);
    if (units % unit !== 0n) return undefined;
    units /= unit;
  }
  if (units >= 10n ** BigInt(precision)) return undefined;
  return negative ? -units : units;
}

/** Compares two decimal texts of one scale, as {@link decimalText} writes them, by value (text order put '9.00' above '24.00'). */
export function compareDecimalText(a: string, b: string): number {
  const negative = a.charCodeAt(0) === 45;
  if (negative !== (b.charCodeAt(0) === 45)) return negative ? -1 : 1;
  // one scale: the longer whole part is the larger magnitude, and equal ones compare as text
  const whole = (s: string): number => {
    const dot = s.indexOf('.');
    return dot === -1 ? s.length : dot;
  };
  const order = whole(a) - whole(b) || (a < b ? -1 : a > b ? 1 : 0);
  return negative ? -order : order;
}

/** Writes `units` at word `at` of `words` as `stride` 32-bit words of two's complement. */
export function decimalWords(units: bigint, words: Uint32Array, at: number, stride: number): void {
  let v = BigInt.asUintN(stride * 32, units);
  for (let w = 0; w < stride; w++) {
    words[at + w] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}
