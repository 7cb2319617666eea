/**
 * Native codecs compress on the calling thread while any live governor is past `ok` (their async
 * calls start thread pools a run near its limit cannot afford; see lib/memory/native-pools.ts),
 * and on their pools again once every governor is back at `ok` or closed. The compressed bytes
 * are the same either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryGovernor } from '../../../index.ts';
import { nativePoolsAllowed } from '../../../lib/memory/native-pools.ts';
import { lz4Frame } from '../../../lib/formats/arrow/ipc-assemble.ts';
import { compressPage } from '../../../lib/formats/parquet/encode/compress.ts';
import { decompressFrameSync } from '../../../lib/formats/lz4.ts';

function governed(): { governor: MemoryGovernor; set: (rss: number) => void } {
  let rss = 100e6;
  const probe = { sample: () => ({ rss, heapUsed: 10e6, heapLimit: 4e9 }) };
  const governor = new MemoryGovernor({ limit: 1e9, probe, gc: false, leak: false, intervalMs: 10_000 });
  return { governor, set: (value) => void (rss = value) };
}

test('codecs leave their pools while a governor is past ok, and return when it is ok or closed', async () => {
  const data = Buffer.from('spillway '.repeat(20_000));
  const a = governed();
  const b = governed();
  try {
    assert.equal(nativePoolsAllowed(), true);
    const pooled = await lz4Frame(data);
    a.set(750e6); // past the spill mark
    await a.governor.sampleNow();
    assert.notEqual(a.governor.level, 'ok');
    assert.equal(nativePoolsAllowed(), false);
    const inline = await lz4Frame(data);
    assert.deepEqual(Buffer.from(decompressFrameSync(Buffer.from(inline))), data);
    assert.deepEqual(Buffer.from(decompressFrameSync(Buffer.from(pooled))), data);
    assert.ok((await compressPage('snappy', data)).byteLength < data.byteLength);
    b.set(100e6);
    await b.governor.sampleNow(); // another governor at ok does not lift a's pressure
    assert.equal(nativePoolsAllowed(), false);
    a.set(100e6);
    await a.governor.sampleNow();
    assert.equal(a.governor.level, 'ok');
    assert.equal(nativePoolsAllowed(), true);
    a.set(990e6);
    await a.governor.sampleNow();
    assert.equal(nativePoolsAllowed(), false);
  } finally {
    a.governor.close();
    b.governor.close();
  }
  assert.equal(nativePoolsAllowed(), true, 'a closed governor presses no more');
});
