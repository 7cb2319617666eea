/**
 * The sniffer's record splitter: a sample's text cut into records with one candidate dialect
 * (delimiter, quote, escape, comment prefix), each record with its fields, where it starts, and
 * the signs the sniffer scores a dialect by (blank, comment, stray quotes). Pure text in, records out.
 */

/** One record of a sample. */
export interface SampleRecord {
  fields: string[];
  /** Char index where the record starts. */
  start: number;
  /** 0-based physical line where it starts. */
  line: number;
  blank: boolean;
  comment: boolean;
  /** Quote characters inside unquoted fields (a sign of the wrong delimiter or quote). */
  strays: number;
}

/** The dialect a sample is split with; `cut` is the comment prefix that ends a record's line ('' for none). */
interface SplitDialect {
  delimiter: string;
  quote: string;
  escape: string;
  comment: string | undefined;
  cut: string;
}

/** Where the splitter is inside the current record. */
interface Cursor {
  /** Char index (the character being read). */
  i: number;
  /** 0-based physical line. */
  line: number;
  fields: string[];
  field: string;
  atFieldStart: boolean;
  inQuotes: boolean;
  strays: number;
}

/**
 * Splits `text` into records with one dialect; the last record is dropped when `truncated`. A
 * comment line is a comment after spaces only (DuckDB's rule: a tab makes it a record); with
 * `inline`, a comment outside quotes also ends its record.
 */
export function splitSample(
  text: string,
  delimiter: string,
  quote: string,
  escape: string,
  comment: string | undefined,
  truncated: boolean,
  inline = false,
): SampleRecord[] {
  const dialect = { delimiter, quote, escape, comment, cut: inline && comment !== undefined ? comment : '' };
  const records: SampleRecord[] = [];
  const at = { i: 0, line: 0 };
  while (at.i < text.length) {
    const { record, ended } = readRecord(text, at, dialect);
    if (!ended && truncated) break;
    records.push(record);
  }
  return records;
}

/** Reads the record at `at` and moves `at` past it; `ended`: it ended at a line end (not the text's end). */
function readRecord(
  text: string,
  at: { i: number; line: number },
  d: SplitDialect,
): { record: SampleRecord; ended: boolean } {
  const start = at.i;
  const cursor: Cursor = {
    i: at.i,
    line: at.line,
    fields: [],
    field: '',
    atFieldStart: true,
    inQuotes: false,
    strays: 0,
  };
  const isComment =
    d.comment !== undefined &&
    text
      .slice(start, start + 200)
      .replace(/^ +/, '')
      .startsWith(d.comment);
  let ended = false;
  for (; cursor.i < text.length; cursor.i++) {
    if (cursor.inQuotes) quotedStep(text, cursor, d);
    else if (unquotedStep(text, cursor, d, isComment)) {
      ended = true;
      break;
    }
  }
  cursor.fields.push(cursor.field);
  const { fields, strays } = cursor;
  const record = {
    fields,
    start,
    line: at.line,
    blank: fields.length === 1 && fields[0] === '' && !isComment,
    comment: isComment,
    strays,
  };
  at.i = cursor.i;
  at.line = cursor.line;
  return { record, ended };
}

/** Reads at `cursor.i` inside quotes: an escaped quote, the closing quote, or a run of text (newlines counted). */
function quotedStep(text: string, cursor: Cursor, d: SplitDialect): void {
  const { quote, escape } = d;
  const i = cursor.i;
  const c = text[i]!;
  if (
    (c === escape && escape !== quote && text[i + 1] === quote) ||
    (c === quote && escape === quote && text[i + 1] === quote)
  ) {
    cursor.field += quote;
    cursor.i++;
    return;
  }
  if (c === quote) {
    cursor.inQuotes = false;
    return;
  }
  if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) cursor.line++;
  if (c === '\n' || c === '\r' || c === escape) {
    cursor.field += c;
    return;
  }
  // a run of plain characters at once: a wide file's sample is megabytes
  const j = runEnd(text, i + 1, quote, escape, '\n', '\r');
  cursor.field += text.slice(i, j);
  cursor.i = j - 1;
}

/** Reads at `cursor.i` outside quotes; true when the record ends there (`cursor.i` then at the next record). */
function unquotedStep(text: string, cursor: Cursor, d: SplitDialect, isComment: boolean): boolean {
  const { quote, delimiter, cut } = d;
  const i = cursor.i;
  const c = text[i]!;
  if (c === quote && cursor.atFieldStart) {
    cursor.inQuotes = true;
    cursor.atFieldStart = false;
    return false;
  }
  if (c === quote) cursor.strays++;
  if (c === delimiter && !isComment) {
    cursor.fields.push(cursor.field);
    cursor.field = '';
    cursor.atFieldStart = true;
    return false;
  }
  if (c === cut && !isComment) {
    // the rest of the line is a comment: the record ends at the line's end
    cursor.i = runEnd(text, i + 1, '\n', '\r', '\n', '\r') - 1;
    return false;
  }
  if (c === '\n' || c === '\r') {
    cursor.i = i + (c === '\r' && text[i + 1] === '\n' ? 2 : 1);
    cursor.line++;
    return true;
  }
  const j = runEnd(text, i + 1, quote, delimiter, '\n', '\r', cut);
  cursor.field += text.slice(i, j);
  cursor.i = j - 1;
  cursor.atFieldStart = false;
  return false;
}

/** Where the run of characters from `from` ends: at the first of `a`, `b`, `c`, `d`, `e`, or the end. */
function runEnd(text: string, from: number, a: string, b: string, c: string, d: string, e = d): number {
  let j = from;
  for (; j < text.length; j++) {
    const ch = text[j];
    if (ch === a || ch === b || ch === c || ch === d || ch === e) break;
  }
  return j;
}
