/**
 * fromCsv's output form. `output` given: the user's word. Not given: fromCsv offers rows or Arrow
 * to format negotiation (lib/core/negotiate.ts) and produces what the pipeline chose; negotiated
 * Arrow holds numbers as Float64 (see lib/formats/arrow/int32-as-double.ts), so the choice never changes a column's type.
 */
import { Batch, type Row } from '../../../core/batch.ts';
import type { FormOffer, StageContext, StageStats } from '../../../core/stage.ts';
import { FormChoice } from '../../../core/negotiate.ts';
import type { CsvPlan } from '../read/options.ts';
import type { CsvReader, CsvReadSpec, CsvRun } from '../read/reader.ts';
import { lazyImport } from '../../../core/lazy-import.ts';

// widens Arrow columns: loads (with apache-arrow) when Arrow was negotiated and read
const numbersModule = lazyImport(() => import('../../arrow/int32-as-double.ts'));

/** The output form of one fromCsv source; see the module comment. */
export class CsvOutput {
  /** The offer made to the pipeline; undefined when the user chose. */
  readonly #base: CsvPlan;
  readonly #choice: FormChoice;

  constructor(plan: CsvPlan) {
    this.#base = plan;
    this.#choice = new FormChoice(plan.given.output === undefined && plan.parser !== 'csv-parse');
  }

  /** The offer made to the pipeline; undefined when the user chose. */
  get offer(): FormOffer | undefined {
    return this.#choice.offer;
  }

  /** True when the pipeline chose Arrow for this source. */
  get negotiatedArrow(): boolean {
    return this.#choice.chosen === 'arrow';
  }

  /** The plan to read with: the given one, with `output` set to the negotiated form (and its projection). */
  get plan(): CsvPlan {
    const chosen = this.#choice.chosen;
    if (chosen === undefined) return this.#base;
    const output = chosen === 'rows' ? 'rows' : 'arrow';
    const project = this.#choice.projected;
    if (project) return { ...this.#base, output, project };
    return output === this.#base.output ? this.#base : { ...this.#base, output };
  }

  /** `reader`, with its Arrow numbers as Float64 when Arrow was negotiated; notes the choice in stats. */
  wrap(reader: CsvReader, stats: StageStats): CsvReader {
    this.#choice.note(stats);
    return this.negotiatedArrow ? new DoublesReader(reader) : reader;
  }
}

/** Passes batches on with Int32 columns as Float64. */
class DoublesReader implements CsvReader {
  readonly kind: string;
  readonly #inner: CsvReader;

  constructor(inner: CsvReader) {
    this.#inner = inner;
    this.kind = inner.kind;
  }

  async *read(context: StageContext, run: CsvRun, spec: CsvReadSpec): AsyncGenerator<Batch<Row>> {
    const { int32AsDouble } = await numbersModule.load();
    for await (const batch of this.#inner.read(context, run, spec)) {
      if (!batch.hasArrow || batch.hasRows) {
        yield batch;
        continue;
      }
      const arrow = batch.arrow;
      const doubles = int32AsDouble(arrow);
      yield doubles === arrow ? batch : (Batch.fromArrow(doubles, batch.position) as Batch<Row>);
    }
  }
}
