/**
 * The main entry's values are a decision, not an accident: this list is the documented public
 * API (index.ts says what lives behind each subpath). Adding a name to `spillway` means adding it
 * here; moving one out means a subpath that still offers it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as main from 'spillway';
import * as arrow from 'spillway/arrow';
import * as parquet from 'spillway/parquet';
import * as workers from 'spillway/workers';
import * as distributed from 'spillway/distributed';
import * as extend from 'spillway/extend';

/** Every value `import ... from 'spillway'` offers, by group. */
const DOCUMENTED: Record<string, readonly string[]> = {
  run: ['pipeline', 'formatReport', 'MemoryGovernor'],
  // S3 endpoint, region, client and limits for https:// and s3:// paths
  remote: ['configureRemote', 'closeRemote'],
  sources: [
    'fromCsv',
    'fromParquet',
    'fromArrow',
    'fromJsonl',
    'fromIterable',
    'inspectCsv',
    'inspectParquet',
    'inspectArrow',
  ],
  transforms: [
    'map',
    'filter',
    'select',
    'flatMap',
    'mapBatch',
    'batch',
    'parallel',
    'groupBy',
    // two-phase groupBy: partial states on parallel() workers, merged on the main thread
    'partialGroups',
    'mergeGroups',
    'agg',
    'distinct',
    'join',
    'sort',
    'topK',
    'limit',
  ],
  // stream-chain's sentinels, for row functions
  sentinels: ['none', 'many', 'stop', 'Stop'],
  sinks: ['collect', 'drain', 'toCsv', 'toParquet', 'toArrow', 'toJsonl', 'toSpill', 'openSpill'],
  // the ones a pipeline author handles; the rest by code, or from spillway/extend
  errors: [
    'SpillwayError',
    'ValidationError',
    'AbortError',
    'StageError',
    'CollectLimitError',
    'MemoryLimitError',
    'ErrorCodes',
  ],
};

test('the main entry exports exactly the documented values', () => {
  const documented = Object.values(DOCUMENTED).flat().sort();
  assert.equal(new Set(documented).size, documented.length, 'no name is listed twice');
  assert.deepEqual(Object.keys(main).sort(), documented);
});

test('every subpath loads and offers what moved out of the main entry', () => {
  const offers = (entry: object, names: string[]): void => {
    for (const name of names) assert.equal(typeof (entry as Record<string, unknown>)[name], 'function', name);
  };
  offers(arrow, [
    'rowsToRecordBatch',
    'recordBatchToRows',
    'inferSchema',
    'registerArrowCodecs',
    'selectRows',
    'RowViewer',
  ]);
  offers(parquet, ['ParquetFileWriter', 'PreciseDate', 'inspectParquet']);
  offers(workers, ['WorkerPool', 'mapBatchesInPool', 'isArrowInput']);
  offers(distributed, ['BullmqBackend', 'QueueWorker']);
  offers(extend, [
    'Batch',
    'BatchSource',
    'BatchTransform',
    'BatchSink',
    'isStage',
    'hasBrand',
    'describeContext',
    'defaultGovernor',
    'setPipelineDefaults',
    'formatBytes',
    'parseBytes',
    'removeCheckpoint',
    'WorkerError',
    'SchemaMismatchError',
    'SpillCorruptError',
    'JoinKeyMismatchError',
  ]);
  // one class, whichever entry it comes from
  assert.equal(extend.MemoryGovernor, main.MemoryGovernor);
  assert.equal(extend.SpillwayError, main.SpillwayError);
  // no subpath re-exports the whole main entry
  for (const entry of [arrow, parquet, workers, distributed, extend]) assert.ok(!('pipeline' in entry));
});
