/**
 * Checkpoint/resume for fromJsonl, as an adapter beside the reader: the checkpoint hooks
 * (identity, refusals, the state after a batch) and where a resumed read starts. The state is the
 * byte offset in the (decompressed) text just past the batch's last line, with the line, row and
 * batch counts there; a resumed read seeks to it (a gzip or zstd file is decompressed from the
 * start and the text before it dropped: compressed streams cannot seek).
 */
import { resolve as resolvePath } from 'node:path';
import type { CheckpointJson, SourceCheckpointHooks } from '../../../observe/checkpoint.ts';
import type { JsonlStart } from './lines.ts';
import type { JsonlPlan } from './options.ts';

/** The checkpoint side of a fromJsonl source. */
export class JsonlResume {
  /** True once the pipeline checkpoints this source (the reader then tracks line ends). */
  enabled = false;
  /** Where a resumed read starts, when resuming. */
  from: JsonlStart | undefined;
  readonly hooks: SourceCheckpointHooks;

  constructor(plan: JsonlPlan, given: object | undefined) {
    const file = plan.url === undefined ? plan.file : undefined;
    this.hooks = {
      identity: {
        source: 'fromJsonl',
        file: file === undefined ? null : resolvePath(file),
        // bigints as `123n`: JSON has none, and the identity must not throw
        options: JSON.parse(
          JSON.stringify(given ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
        ) as CheckpointJson,
      },
      ...(file === undefined ? {} : { file }),
      refuse:
        plan.url !== undefined
          ? `${plan.stage} reads a URL as a stream and cannot resume inside it`
          : file === undefined
            ? `${plan.stage} reads a stream, not a file, and cannot seek back to a position`
            : undefined,
      enable: () => {
        this.enabled = true;
      },
      state: (position, rowsThrough) => {
        const state: JsonlStart = {
          byte: position.endByte ?? 0,
          line: position.endLine ?? 0,
          rows: rowsThrough,
          index: position.index + 1,
        };
        return state as unknown as CheckpointJson;
      },
      resume: (state) => {
        this.from = state as unknown as JsonlStart;
      },
    };
  }
}
