/**
 * What users see of remote storage: {@link configureRemote} (endpoint, region, client, limits)
 * and {@link closeRemote} (release the S3 client spillway built, e.g. before a script exits).
 */
import { closeS3Client } from './s3-client.ts';

export { configureRemote, type RemoteSettings, type S3ClientLike } from './settings.ts';

/** Releases the S3 client spillway built and its keep-alive sockets; the next S3 call builds a new one. */
export function closeRemote(): void {
  closeS3Client();
}
