/**
 * Format negotiation: before a run starts, `pipeline()` asks the stages what batch form they
 * accept (their {@link StageCapabilities}) and tells a source that can produce more than one form
 * which to produce. A source produces Arrow when the first stage after it that does more than
 * pass batches on reads Arrow without converting (a sink writing columns, a row stage reading
 * views); stages that keep the form they receive (filter over views) are looked through. Rows
 * are then built only by a stage that needs objects, once (the batch caches them). A source the
 * user told what to produce (`output: 'rows'`) keeps its word: the offer is not made.
 *
 * Projection pushdown: when the stage right after a source producing Arrow reads only some
 * columns and passes no other on (its `reads`: a select, a groupBy, a map whose function's
 * fields are known, lib/core/fields-read.ts), the source is told, and may leave the others
 * unfilled (fromCsv skips their cells), as DuckDB's readers skip columns a query does not use.
 * Stages before it that pass every column on and say which they read (a filter's `inspects`)
 * are looked through, their columns added.
 */
import type { Batch } from './batch.ts';
import { STAGE, isStage, type BatchForm, type FormOffer, type StageCapabilities, type StageStats } from './stage.ts';

export type { FormOffer } from './stage.ts';

/**
 * A source's side of negotiation between rows and Arrow: the offer (none when the user set
 * `output`), the form the pipeline chose and why. Sources read {@link FormChoice.chosen} when
 * they open and note what they produce with {@link FormChoice.note}.
 */
export class FormChoice {
  /** The offer made to the pipeline; undefined when the user chose the form. */
  readonly offer: FormOffer | undefined;
  #chosen: BatchForm | undefined;
  #reason = '';
  #project: readonly string[] | undefined;

  /** @param offered false when the user chose the form (no offer is made) */
  constructor(offered: boolean) {
    if (!offered) return;
    this.offer = {
      produces: ['rows', 'arrow'],
      choose: (form, reason) => {
        this.#chosen = form;
        this.#reason = reason;
      },
      project: (columns) => {
        this.#project = columns;
      },
    };
  }

  /** The only columns the pipeline needs of the source (Arrow chosen; see the module comment), else undefined. */
  get projected(): readonly string[] | undefined {
    return this.#chosen === 'arrow' ? this.#project : undefined;
  }

  /** The form the pipeline chose; undefined when no choice was made (no offer, or no pipeline). */
  get chosen(): BatchForm | undefined {
    return this.#chosen;
  }

  /**
   * Notes the choice in `stats.details.outputChosen` (`arrow: stage 1 reads Arrow`), or, when the
   * source produces another form than the pipeline chose, that form and `why`.
   */
  note(stats: StageStats, produced: BatchForm = this.#chosen ?? 'rows', why?: string): void {
    if (this.#chosen === undefined) return;
    stats.details.outputChosen =
      produced === this.#chosen ? `${produced}: ${this.#reason}` : `${produced}: ${why ?? 'the source cannot'}`;
  }
}

/** The stages after a source as negotiation sees them: capabilities, or undefined for a foreign stream. */
export type Downstream = readonly (StageCapabilities | undefined)[];

/** The form a source offering `produces` should produce for `downstream`, and why. */
export function resolveForm(
  produces: readonly BatchForm[],
  downstream: Downstream,
): { form: BatchForm; reason: string } {
  const fallback = produces[0] ?? 'rows';
  if (!produces.includes('arrow')) return { form: fallback, reason: 'the source produces rows only' };
  for (const [i, stage] of downstream.entries()) {
    // a foreign stream (or a stage that declares nothing) gets what it always got
    if (stage === undefined) return { form: fallback, reason: `stage ${i + 1} is not a spillway stage` };
    // stages before it that pass Arrow on (a filter) read it faster, and rows are then made only for what they keep
    if (!readsArrow(stage))
      return i === 0
        ? { form: 'rows', reason: 'stage 1 reads row objects' }
        : { form: 'arrow', reason: `stage ${i + 1} makes rows from what stages before it pass on` };
    if (!stage.keepsForm) return { form: 'arrow', reason: `stage ${i + 1} reads Arrow` };
  }
  return { form: 'arrow', reason: 'no stage reads row objects' };
}

/** True when a stage consumes Arrow batches without converting them to rows (directly or through row views). */
export function readsArrow(stage: StageCapabilities): boolean {
  return stage.accepts.includes('arrow') || stage.accepts.includes('view');
}

/** The form a batch holds now: `arrow` until its rows were made, else `rows`. */
export function formOf(batch: Batch): BatchForm {
  return batch.hasArrow && !batch.hasRows ? 'arrow' : 'rows';
}

/**
 * Notes in `stats.details.input` the form of the batches a stage received: `rows`, `arrow`, or
 * `mixed` once both came. For display (`stats`), as every detail is.
 */
export function noteInput(stats: StageStats, batch: Batch): void {
  const form = formOf(batch);
  const seen = stats.details.input;
  if (seen === form || seen === 'mixed') return;
  stats.details.input = seen === undefined ? form : 'mixed';
}

/**
 * Resolves the form of every source in `streams` that offers a choice (the first stream; a
 * source later in a pipeline is not one). Called once by `pipeline()` before the run starts, and
 * by a join for its right input given as a chain (source-chain.ts), whose reader is `consumer`.
 */
export function negotiateForms(streams: readonly unknown[], consumer?: StageCapabilities): void {
  const [first, ...rest] = streams;
  if (!isStage(first)) return;
  const offer = first[STAGE].offer;
  if (offer === undefined) return;
  const downstream = rest.map((stream) => (isStage(stream) ? stream[STAGE].capabilities : undefined));
  if (consumer !== undefined) downstream.push(consumer);
  const { form, reason } = resolveForm(offer.produces, downstream);
  offer.choose(form, reason);
  const reads = projectionFor(downstream);
  if (form === 'arrow' && reads && offer.project) offer.project(reads);
}

/**
 * The only columns `downstream` reads of a source (see the module comment), or undefined when a
 * stage may read any: the first stage that passes no other column on ends the search, looked
 * for through stages that pass every column on and say which they read.
 */
export function projectionFor(downstream: Downstream): readonly string[] | undefined {
  const columns = new Set<string>();
  for (const stage of downstream) {
    if (stage?.reads !== undefined) {
      for (const name of stage.reads) columns.add(name);
      // no column at all is not a projection a reader takes
      return columns.size > 0 ? [...columns] : undefined;
    }
    if (stage?.keepsForm !== true || stage.inspects === undefined) return undefined;
    for (const name of stage.inspects) columns.add(name);
  }
  return undefined;
}
