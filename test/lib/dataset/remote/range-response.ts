/**
 * What a test HTTP server answers to a request's `Range` header over `bytes`, as object stores
 * do: undefined without one (serve the whole body), else the 206 body with its headers (an open
 * end, and a suffix range `bytes=-N`, included).
 */
export function rangeResponse(
  range: string | undefined,
  bytes: Uint8Array,
): { body: Uint8Array; headers: Record<string, string | number> } | undefined {
  const m = /bytes=(\d*)-(\d*)/.exec(range ?? '');
  if (!m) return undefined;
  const size = bytes.length;
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  const body = bytes.subarray(start, end + 1);
  return {
    body,
    headers: { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': body.length, etag: '"v1"' },
  };
}
