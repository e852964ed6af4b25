import type { Readable } from 'node:stream';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { SystemError } from '../../errors.js';

/** Where export blobs are read from: a connection string, or an account's blob URI with Entra auth. */
export type BlobConnection = { readonly connectionString: string } | { readonly blobServiceUri: string };

/** A version of a blob: its ETag names it, so a file rewritten under the same name is a new version. */
export interface BlobVersion {
  readonly etag: string;
  readonly size: number;
}

/** Reads segment export files and their model.json from Blob Storage (the reads processing needs, nothing else). */
export class ExportBlobSource {
  private readonly service: BlobServiceClient;

  constructor(connection: BlobConnection) {
    this.service =
      'connectionString' in connection
        ? BlobServiceClient.fromConnectionString(connection.connectionString)
        : new BlobServiceClient(connection.blobServiceUri, new DefaultAzureCredential());
  }

  private container(name: string): ContainerClient {
    return this.service.getContainerClient(name);
  }

  /** The blob's current version; undefined when it is gone (deleted after its event was sent). */
  async version(container: string, name: string): Promise<BlobVersion | undefined> {
    try {
      const props = await this.container(container).getBlobClient(name).getProperties();
      return { etag: props.etag ?? '', size: props.contentLength ?? 0 };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw asSystemError(error, `reading properties of ${container}/${name}`);
    }
  }

  /**
   * Streams this version of the blob. The read is conditional on the ETag: a blob rewritten meanwhile
   * fails the read (412) instead of mixing two versions' rows.
   */
  async open(container: string, name: string, etag: string): Promise<Readable> {
    try {
      const response = await this.container(container)
        .getBlobClient(name)
        .download(0, undefined, { conditions: { ifMatch: etag } });
      if (response.readableStreamBody === undefined) throw new Error('the download has no body stream');
      return response.readableStreamBody as Readable;
    } catch (error) {
      throw asSystemError(error, `reading ${container}/${name}`);
    }
  }

  /** A small text blob (model.json); undefined when there is none. */
  async readText(container: string, name: string): Promise<string | undefined> {
    try {
      const buffer = await this.container(container).getBlobClient(name).downloadToBuffer();
      return buffer.toString('utf8');
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw asSystemError(error, `reading ${container}/${name}`);
    }
  }
}

function asSystemError(error: unknown, what: string): SystemError {
  const status = (error as { statusCode?: number }).statusCode;
  const retryable = status === undefined || status === 408 || status === 412 || status === 429 || status >= 500;
  return new SystemError(
    'DependencyFailed',
    `Blob Storage: ${what} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${(error as Error).message}`,
    retryable,
    {
      cause: error,
    },
  );
}
