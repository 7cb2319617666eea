/**
 * The encoder thread's entry: encodes and compresses the row groups the writer posts, one at a
 * time, in the order they come (see row-group-encoder.ts).
 */
import { parentPort } from 'node:worker_threads';
import { ColumnBuffer } from './column-buffer.ts';
import { encodeColumnsSync } from './encoded-chunk.ts';
import type { EncodeReply, EncodeRequest } from './row-group-encoder.ts';

const port = parentPort!;
port.on('message', (request: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    reply = {
      id: request.id,
      chunks: encodeColumnsSync(
        request.columns.map((s) => ColumnBuffer.fromSnapshot(s)),
        request.codec,
        request.pageBytes,
      ),
    };
  } catch (error) {
    reply = { id: request.id, error: { name: (error as Error).name, message: (error as Error).message } };
  }
  // the page bodies are fresh buffers of their own (compressed output), or views of the encoder's
  // page buffers when uncompressed: no transfer list, a copy is cheap next to the encoding
  port.postMessage(reply);
});
