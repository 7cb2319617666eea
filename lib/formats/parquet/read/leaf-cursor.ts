/**
 * The level and value stream of one nested leaf chunk, read page by page. `fill(n)` decodes
 * pages (`nested-page.ts`) until the pages held cover `n` whole rows from the current entry (a
 * row starts at repetition level 0, so a row continued on the next page is never cut); the
 * assembler (`assemble.ts`) then walks the entries synchronously with `step` and `value`. A page
 * is dropped as soon as the walk leaves it, so the pages held are those of one batch and one
 * page beyond it.
 */
import { convert } from 'hyparquet/src/convert.js';
import { readPage } from 'hyparquet/src/column.js';
import type { DecodedArray } from 'hyparquet';
import { FormatError, UnsupportedError } from '../../../core/errors.ts';
import { pageDecodeError } from './page-error.ts';
import type { LevelArray } from './levels.ts';
import { readLeafPage } from './nested-page.ts';
import { checkDictionaryFits } from './page-counts.ts';
import type { LeafLevels, LeafPage } from './nested-page.ts';
import type { PageStream } from './pages.ts';

const NO_LEVELS = new Uint8Array(0);

/** Where a leaf chunk is, for messages. */
export interface LeafWhere {
  /** e.g. "row group 0, column `l`" */
  readonly where: string;
  readonly file: string;
  /** A page holding more values than this is refused. */
  readonly maxPageValues: number;
  /**
   * Every page must start a row: the pages are a selection through the OffsetIndex, whose pages
   * of a repeated column start at a row's start (a page that does not would misplace values).
   */
  readonly pagesStartRows?: boolean;
}

/** One nested leaf chunk as a cursor over its level entries. */
export class LeafCursor {
  /** Levels and values of the page being walked. */
  rep: LevelArray = NO_LEVELS;
  def: LevelArray = NO_LEVELS;
  values: DecodedArray | Uint16Array = NO_LEVELS;
  dictionary: DecodedArray | undefined;
  /** Current entry and value in the page being walked; `pos === len` only when no page is left. */
  pos = 0;
  len = 0;
  vpos = 0;
  /** Pages decoded and not yet walked. */
  private readonly queue: LeafPage[] = [];
  /** Row starts from the current entry to the end of the last page decoded. */
  private rowsAhead = 0;
  private chunkDictionary: DecodedArray | undefined;
  private done = false;
  private started = false;

  private readonly pages: PageStream;
  readonly leaf: LeafLevels;
  private readonly at: LeafWhere;

  constructor(pages: PageStream, leaf: LeafLevels, at: LeafWhere) {
    this.pages = pages;
    this.leaf = leaf;
    this.at = at;
  }

  /** True when no entry is left in the pages decoded. */
  get atEnd(): boolean {
    return this.pos >= this.len;
  }

  /** True when the page being walked is the last one decoded. */
  get lastPage(): boolean {
    return this.queue.length === 0;
  }

  /** Moves to the next entry (without its value). */
  step(): void {
    if (++this.pos >= this.len) this.shift();
  }

  /** The value of the current entry (defined at the leaf's maximum level), then moves on. */
  value(): unknown {
    const i = this.vpos++;
    const v = this.dictionary ? this.dictionary[this.values[i] as number] : this.values[i];
    if (++this.pos >= this.len) this.shift();
    return v;
  }

  /** Starts walking the next page decoded, if any. */
  private shift(): void {
    if (this.pos < this.len) return;
    if (this.len > 0 && this.vpos !== this.values.length) {
      throw new FormatError(
        `Parquet ${this.at.where} has a page of ${this.values.length} values for ${this.vpos} defined entries`,
        { file: this.at.file },
      );
    }
    const next = this.queue.shift();
    if (!next) {
      this.rep = this.def = NO_LEVELS;
      this.values = NO_LEVELS;
      this.dictionary = undefined;
      this.pos = this.len = this.vpos = 0;
      return;
    }
    this.rep = next.rep;
    this.def = next.def;
    this.values = next.values;
    this.dictionary = next.dictionary;
    this.pos = this.vpos = 0;
    this.len = next.count;
  }

  /** Decodes pages until `n` whole rows from the current entry are held, or the chunk ends. */
  async fill(n: number): Promise<void> {
    while (!this.done && this.rowsAhead <= n) {
      const page = await this.pages.next();
      if (!page) {
        this.done = true;
        break;
      }
      const header = page.header;
      if (header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2' && header.type !== 'DICTIONARY_PAGE') continue;
      const count = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_values ?? 0;
      if (header.type !== 'DICTIONARY_PAGE' && count === 0) continue;
      if (header.type !== 'DICTIONARY_PAGE' && count > this.at.maxPageValues) {
        throw new UnsupportedError(
          `Parquet ${this.at.where} has a nested page of ${count.toLocaleString('en-US')} values; decoding it would take about ${Math.round((count * 12) / 2 ** 20)} MB, above the bound of maxNestedPageValues = ${this.at.maxPageValues.toLocaleString('en-US')} (raise that option to read it)`,
          { file: this.at.file, byteOffset: page.offset },
        );
      }
      let decoded: LeafPage;
      try {
        if (header.type === 'DICTIONARY_PAGE') {
          const { type, element } = this.leaf.decoder;
          checkDictionaryFits(header, type, element.type_length);
          const reader = {
            view: new DataView(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength),
            offset: 0,
          };
          const dict = readPage(reader, header, this.leaf.decoder, undefined, undefined, 0);
          if (dict.data) {
            const converted = convert(dict.data, this.leaf.decoder);
            this.chunkDictionary = this.leaf.shape ? this.leaf.shape(converted) : converted;
          }
          continue;
        }
        decoded = readLeafPage(page.bytes, header, this.leaf, this.chunkDictionary);
      } catch (error) {
        throw pageDecodeError(error, this.at.where, this.at.file, page.offset);
      }
      if ((!this.started || this.at.pagesStartRows) && decoded.rep[0] !== 0) {
        const what = this.started ? 'has a page (selected through its OffsetIndex) that starts' : 'starts';
        throw new FormatError(`Parquet ${this.at.where} ${what} inside a row (repetition level ${decoded.rep[0]})`, {
          file: this.at.file,
          byteOffset: page.offset,
        });
      }
      this.started = true;
      this.queue.push(decoded);
      this.rowsAhead += decoded.rows;
      if (this.pos >= this.len) this.shift();
    }
  }

  /** Whole rows held from the current entry on (all of them when the chunk has ended). */
  rowsHeld(n: number): boolean {
    return this.done ? this.rowsAhead >= n : this.rowsAhead > n;
  }

  /** Records that `n` rows were walked; throws when the walk did not stop at a row start. */
  consumed(n: number): void {
    this.rowsAhead -= n;
    if (!this.atEnd && this.rep[this.pos] !== 0) {
      throw new FormatError(`Parquet ${this.at.where} has levels that do not line up with its sibling columns`, {
        file: this.at.file,
      });
    }
  }

  /** Skips `n` whole rows (held by {@link fill}) without assembling them. */
  skipRows(n: number): void {
    const max = this.leaf.maxDef;
    for (let left = n; left > 0; ) {
      if (this.def[this.pos] === max) this.vpos++;
      if (++this.pos >= this.len) this.shift();
      if (this.atEnd || this.rep[this.pos] === 0) left--;
      if (this.atEnd && left > 0)
        throw new FormatError(`Parquet ${this.at.where} holds fewer rows than its row group`, { file: this.at.file });
    }
    this.rowsAhead -= n;
  }

  /** Throws when the chunk holds entries beyond the rows walked. */
  async finish(): Promise<void> {
    await this.fill(0);
    if (!this.atEnd || this.rowsAhead > 0) {
      throw new FormatError(`Parquet ${this.at.where} holds more values than its row group's rows`, {
        file: this.at.file,
      });
    }
  }
}
