/**
 * libzstd in WebAssembly (zstddec's build), for decoding into a buffer of a fixed capacity: the
 * one decoder here that stops at a given output size, whatever the frame claims. WebAssembly
 * memory only grows, so after a large decode the instance is dropped (its memory goes with it)
 * and the next decode instantiates a fresh one from the module compiled once. zstddec keeps a
 * single instance in module scope with no way to drop it, so spillway instantiates zstddec's
 * WebAssembly binary itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** WebAssembly memory kept after a decode; an instance that grew past this is dropped. */
export const WASM_RETAIN_BYTES = 32 * 1024 * 1024;

/** The part of the WebAssembly global used here (the compiler's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface ZstdExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  ZSTD_decompress(dst: number, dstCapacity: number, src: number, srcSize: number): number;
  ZSTD_isError(code: number): number;
}

let compiled: object | undefined;
let instance: ZstdExports | undefined;

/** zstddec ships its binary as a base64 string in its one JavaScript file. */
function compile(): object {
  const source = readFileSync(fileURLToPath(import.meta.resolve('zstddec')), 'utf8');
  const match = /\bwasm\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(source);
  if (!match) throw new Error("zstd: zstddec's WebAssembly binary was not found in its module");
  return new wasmApi.Module(Buffer.from(match[1]!, 'base64'));
}

function exportsOf(): ZstdExports {
  if (instance) return instance;
  compiled ??= compile();
  // the build calls this import when its memory grows; views are taken fresh after every call anyway
  const imports = { env: { emscripten_notify_memory_growth: (): void => {} } };
  instance = new wasmApi.Instance(compiled, imports).exports as unknown as ZstdExports;
  return instance;
}

/** Bytes of WebAssembly memory the current decoder instance holds (0 when there is none). */
export function zstdWasmMemoryBytes(): number {
  return instance?.memory.buffer.byteLength ?? 0;
}

/** Drops the decoder instance, and its memory with it; the next decode creates a new one. */
export function releaseZstdWasm(): void {
  instance = undefined;
}

/**
 * Decodes the zstd frames of `data` into at most `capacity` bytes. Returns the bytes, or an
 * Error (not thrown) when the frames are corrupt or hold more than `capacity` bytes.
 */
export function zstdWasmDecode(data: Uint8Array, capacity: number): Uint8Array | Error {
  const wasm = exportsOf();
  let src = 0;
  let dst = 0;
  try {
    src = wasm.malloc(data.byteLength);
    dst = wasm.malloc(Math.max(1, capacity));
    if (src === 0 || dst === 0) return new Error(`zstd: cannot allocate ${capacity} bytes to decompress into`);
    new Uint8Array(wasm.memory.buffer, src, data.byteLength).set(data);
    const written = wasm.ZSTD_decompress(dst, capacity, src, data.byteLength);
    if (wasm.ZSTD_isError(written) !== 0)
      return new Error(`zstd: frame is corrupt or decompresses to more than ${capacity} bytes`);
    return new Uint8Array(wasm.memory.buffer, dst, written >>> 0).slice();
  } finally {
    if (src !== 0) wasm.free(src);
    if (dst !== 0) wasm.free(dst);
    if (wasm.memory.buffer.byteLength > WASM_RETAIN_BYTES) releaseZstdWasm();
  }
}
