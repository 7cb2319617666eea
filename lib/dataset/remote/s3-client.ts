/**
 * The S3 client, loaded on first use from `@aws-sdk/client-s3`, an optional peer dependency:
 * users who never touch `s3://` do not install the SDK. A missing SDK is a coded error that says
 * what to install. The client is built once per settings (see settings.ts) with the SDK's default
 * credential chain; spillway never reads, stores or prints credentials. SDK errors are turned
 * into IoErrors that name the operation, the URL and the S3 error code only: the SDK's own error
 * (which may echo request details) is not kept as the cause.
 */
import { IoError, UnsupportedError } from '../../core/errors.ts';
import { onRemoteSettingsChange, remoteSettings, type S3ClientLike } from './settings.ts';

/** The command classes spillway uses, from `@aws-sdk/client-s3`. */
export interface S3Module {
  S3Client: new (config: Record<string, unknown>) => S3ClientLike;
  GetObjectCommand: new (input: Record<string, unknown>) => unknown;
  HeadObjectCommand: new (input: Record<string, unknown>) => unknown;
  PutObjectCommand: new (input: Record<string, unknown>) => unknown;
  ListObjectsV2Command: new (input: Record<string, unknown>) => unknown;
  DeleteObjectsCommand: new (input: Record<string, unknown>) => unknown;
  CreateMultipartUploadCommand: new (input: Record<string, unknown>) => unknown;
  UploadPartCommand: new (input: Record<string, unknown>) => unknown;
  CompleteMultipartUploadCommand: new (input: Record<string, unknown>) => unknown;
  AbortMultipartUploadCommand: new (input: Record<string, unknown>) => unknown;
}

const SDK = '@aws-sdk/client-s3';
let loading: Promise<S3Module> | undefined;
let client: S3ClientLike | undefined;

onRemoteSettingsChange(() => {
  client?.destroy?.();
  client = undefined;
});

/**
 * Imports the SDK through `importer` (tests pass one that fails, to see the missing-SDK error).
 * @throws UnsupportedError (`ERR_SPILLWAY_UNSUPPORTED`) when `@aws-sdk/client-s3` is not installed
 */
export async function importS3Module(importer: () => Promise<unknown> = () => import(SDK)): Promise<S3Module> {
  try {
    return (await importer()) as S3Module;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new UnsupportedError(`s3:// needs the AWS SDK: npm install ${SDK}`, {}, { cause: error });
    }
    throw error;
  }
}

/** The SDK, imported once (a failed import is not kept: installing the SDK fixes the next call). */
export function loadS3Module(): Promise<S3Module> {
  if (loading === undefined) {
    loading = importS3Module();
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** The SDK module and the client in force (built on first use). */
export async function s3(): Promise<{ sdk: S3Module; client: S3ClientLike }> {
  const sdk = await loadS3Module();
  const settings = remoteSettings();
  if (settings.s3Client) return { sdk, client: settings.s3Client };
  client ??= new sdk.S3Client({
    region: settings.s3Region,
    ...(settings.s3Endpoint ? { endpoint: settings.s3Endpoint } : {}),
    forcePathStyle: settings.s3ForcePathStyle,
  });
  return { sdk, client };
}

/** Releases the client spillway built (its keep-alive sockets); the next S3 call builds a new one. */
export function closeS3Client(): void {
  client?.destroy?.();
  client = undefined;
}

/** The HTTP status of an SDK error, when it has one. */
export function s3Status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** The S3 error code of an SDK error (`NoSuchKey`, `PreconditionFailed`, ...), or the error's name. */
export function s3Code(error: unknown): string {
  const e = error as { Code?: string; name?: string; code?: string } | null;
  return e?.Code ?? e?.code ?? e?.name ?? 'Error';
}

/** An IoError for a failed S3 call: operation, URL, S3 code and status; no SDK message, no request details. */
export function s3Error(operation: string, url: string, error: unknown, stage?: string): IoError {
  const status = s3Status(error);
  const code = s3Code(error);
  const reason = `${code}${status === undefined ? '' : ` (HTTP ${status})`}`;
  const cause = new Error(reason);
  cause.name = code;
  return new IoError(`S3 ${operation} failed: ${reason}`, { ...(stage ? { stage } : {}), file: url }, { cause });
}
