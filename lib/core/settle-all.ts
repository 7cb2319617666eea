/**
 * Waits for every promise, then throws the first failure (in the given order): for work started
 * all at once, such as writes to several files, where a failure must not leave the others running
 * past the caller (as `Promise.all` would, rejecting at the first).
 */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((w) => w.status === 'rejected');
  if (failed) throw failed.reason;
}
