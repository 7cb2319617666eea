/**
 * Remote objects opened by URL: the transport for a URL's scheme, a random-access buffer for
 * Parquet (the `FileBuffer` hyparquet reads), a `FileHandle` look-alike for Arrow, and a
 * resuming byte stream for CSV and JSON Lines. The readers ask here and never see the protocol.
 */
import type { Readable } from 'node:stream';
import type { FileBuffer } from '../../formats/parquet/fileBuffer.ts';
import { httpTransport } from './http-transport.ts';
import { s3Transport } from './s3-transport.ts';
import { openRangeBuffer } from './range-buffer.ts';
import { remoteStream } from './remote-stream.ts';
import { remoteSettings } from './settings.ts';
import type { RemoteTransport } from './transport.ts';
import { isS3Url } from './url.ts';

/** The transport for `url` (`s3://` or `http(s)://`). */
export function transportFor(url: string): RemoteTransport {
  return isS3Url(url) ? s3Transport(url) : httpTransport(url);
}

/**
 * Opens `url` for ranged reads (Parquet): the footer first, then only the ranges the reader asks for.
 * @throws IoError when the object cannot be reached, is missing, or does not support ranges
 */
export function openRemoteBuffer(url: string): Promise<FileBuffer> {
  return openRangeBuffer(transportFor(url), remoteSettings());
}

/** A byte stream of `url` from its start that resumes after a dropped connection (CSV, JSON Lines). */
export function openRemoteStream(url: string): Readable {
  return remoteStream(transportFor(url), remoteSettings());
}

/**
 * The subset of `fs.promises.FileHandle` apache-arrow's random-access reader uses (`fd`, `stat`,
 * `read`, `close`), over a ranged remote buffer: an Arrow file is read footer first, then one
 * record batch per request.
 */
export async function openRemoteHandle(url: string): Promise<import('node:fs/promises').FileHandle> {
  const buffer = await openRemoteBuffer(url);
  const size = buffer.byteLength;
  const handle = {
    fd: -1,
    async stat() {
      return { size };
    },
    async read(target: Uint8Array, offset = 0, length = target.byteLength - offset, position = 0) {
      const end = Math.min(size, position + length);
      if (end <= position) return { bytesRead: 0, buffer: target };
      const bytes = new Uint8Array(await buffer.slice(position, end));
      target.set(bytes, offset);
      return { bytesRead: bytes.length, buffer: target };
    },
    close: () => buffer.close(),
    get bytesRead() {
      return buffer.bytesRead;
    },
  };
  return handle as unknown as import('node:fs/promises').FileHandle;
}
