/**
 * Page compression. On the main thread, snappy (native, napi-rs) and gzip (node:zlib) run on the
 * libuv thread pool, so they overlap with the main thread parsing the next batches; so does zstd
 * (lib/zstd.ts). On the encoder thread (row-group-encoder.ts) every codec runs synchronously there.
 */
import { gzip, gzipSync } from 'node:zlib';
import { compress as snappyCompress, compressSync as snappyCompressSync } from '../../snappy.ts';
import { zstdCompress, zstdCompressSync } from '../../zstd.ts';
import { nativePoolsAllowed } from '../../../memory/native-pools.ts';

/** Compression codecs the writer offers. */
export type ParquetCompression = 'snappy' | 'gzip' | 'zstd' | 'uncompressed';

/** The codec names, in option order. */
export const CODEC_NAMES: readonly ParquetCompression[] = ['snappy', 'gzip', 'zstd', 'uncompressed'];

/** Thrift CompressionCodec ids. */
export const CODEC_IDS: Record<ParquetCompression, number> = { uncompressed: 0, snappy: 1, gzip: 2, zstd: 6 };

/** Compresses one page; resolves with the bytes to write. */
export function compressPage(codec: ParquetCompression, page: Uint8Array): Promise<Uint8Array> {
  switch (codec) {
    case 'uncompressed':
      return Promise.resolve(page);
    case 'snappy':
      // on snappy's threads, or on this one while memory is pressed (native-pools.ts)
      return nativePoolsAllowed() ? snappyCompress(page) : Promise.resolve(snappyCompressSync(page));
    case 'gzip':
      return new Promise((resolve, reject) => gzip(page, (error, out) => (error ? reject(error) : resolve(out))));
    case 'zstd':
      return zstdCompress(page);
  }
}

/** Compresses one page on the calling thread (the encoder thread's way). */
export function compressPageSync(codec: ParquetCompression, page: Uint8Array): Uint8Array {
  switch (codec) {
    case 'uncompressed':
      return page;
    case 'snappy':
      return snappyCompressSync(page);
    case 'gzip':
      return gzipSync(page);
    case 'zstd':
      return zstdCompressSync(page);
  }
}
