/**
 * A source and the transforms after it, read as one source: a join's right input given as
 * `[fromCsv('symbols.csv'), select(['symbol', 'sector']), filter(fn)]`, as SQL joins a subquery.
 * Its stages are built as a pipeline's are (build-streams.ts) and negotiated as a pipeline's head
 * with the reader as the last stage, so the source produces Arrow and fills only the columns the
 * first stage reads (projection pushdown) where that stage says so; then they are piped together
 * and the last one's batches are read.
 */
import { Readable, type Writable, pipeline as streamPipeline } from 'node:stream';
import type { Batch } from './batch.ts';
import { buildStreams } from './build-streams.ts';
import { ValidationError } from './errors.ts';
import { negotiateForms } from './negotiate.ts';
import { isStage, STAGE, type StageCapabilities, type StageContext } from './stage.ts';
import { closeStream } from '../io/close-stream.ts';
import { takeStages } from './used-stages.ts';

/** True for an array whose first element is a stream: a chain of stages, not rows or batches. */
export function isStageChain(value: unknown): value is readonly [Readable, ...unknown[]] {
  return Array.isArray(value) && value.length > 0 && value[0] instanceof Readable;
}

/** A source and transforms read as one source; see the module comment. */
export class SourceChain {
  readonly #streams: readonly (Readable | Writable)[];
  readonly #what: string;

  /**
   * Builds the streams of `stages` (a source first, then transforms or per-row functions).
   * @param what names the caller in errors (`join(right)`)
   * @throws ValidationError when the stages end in a sink, or are not stages
   */
  constructor(stages: readonly unknown[], what: string) {
    const streams = buildStreams(stages, what);
    if (!(streams[streams.length - 1] instanceof Readable))
      throw new ValidationError(`${what}: the last stage must produce batches (a source or a transform), not a sink`);
    this.#streams = streams;
    this.#what = what;
  }

  /**
   * The stages' names in order, with what the source chose to produce and the only columns it
   * filled, once read (`fromCsv (arrow: stage 2 reads Arrow; columns id, price) -> select`).
   */
  describe(): string {
    return this.#streams
      .map((stream) => {
        if (!isStage(stream)) return stream.constructor.name || 'stream';
        const { name, details } = stream[STAGE].stats;
        const notes = [
          details.outputChosen,
          details.projection === undefined ? undefined : `columns ${details.projection}`,
        ];
        const said = notes.filter((note) => typeof note === 'string');
        return said.length > 0 ? `${name} (${said.join('; ')})` : name;
      })
      .join(' -> ');
  }

  /**
   * The batches the last stage emits. Before the first is read, the source's form is negotiated
   * with `reader` as the stage after the last, every stage gets `context`, and the streams are
   * piped together: an error anywhere ends the iteration with it.
   */
  async *batches(context: StageContext, reader: StageCapabilities): AsyncGenerator<Batch> {
    const streams = this.#streams;
    takeStages(streams, this.#what);
    negotiateForms(streams, reader);
    for (const stream of streams) if (isStage(stream)) stream[STAGE].attach(context);
    const last = streams[streams.length - 1] as Readable;
    // the error reaches the reader through `last`, which pipeline destroys with it
    if (streams.length > 1) streamPipeline(streams as unknown as [Readable, Writable], () => {});
    for await (const batch of last) yield batch as Batch;
  }

  /** Destroys every stage that has not closed and waits until each has (files released). */
  async close(): Promise<void> {
    await Promise.all(this.#streams.map((stream) => closeStream(stream)));
  }
}
