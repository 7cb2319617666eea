/**
 * Closing a stream and waiting until it is closed. `destroy()` returns at once, but a file stream
 * releases its descriptor later (after its pending open, then an asynchronous close): a stage
 * that says it is done, or a pipeline that settles, before then leaves a descriptor behind it.
 */
import type { Stream } from 'node:stream';

/** A stream with Node's `closed` flag and `destroy` (Readable, Writable, fs streams). */
type Closable = Stream & { readonly closed: boolean; destroy(error?: Error): unknown };

/**
 * Destroys `stream` (with `error`, when given) and resolves once it emitted 'close'; at once when
 * it is closed already. Only for streams that emit 'close' (Node's default, and every fs stream).
 */
export async function closeStream(stream: Closable, error?: Error): Promise<void> {
  if (stream.closed) return;
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.destroy(error);
  await closed;
}
