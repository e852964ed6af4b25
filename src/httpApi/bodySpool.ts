import { createReadStream } from 'node:fs';
import { open, readdir, rm, mkdtemp, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A spool folder older than this is a crash's leftover (a process that died between the two passes of a
 * page read): no request lives this long (the Functions host ends HTTP requests within minutes).
 */
export const STALE_SPOOL_MS = 60 * 60_000;

/** Parent folders this process has already cleared of stale spools. */
const sweptParents = new Set<string>();

/**
 * Removes `body-spool-*` folders under `parentDir` last changed more than `olderThanMs` ago; returns how
 * many. Best effort: a folder another process removes first, or one that cannot be read, is skipped.
 */
export async function removeStaleSpools(parentDir: string, olderThanMs = STALE_SPOOL_MS, now = Date.now()): Promise<number> {
  let removed = 0;
  const names = await readdir(parentDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith('body-spool-')) continue;
    const dir = join(parentDir, name);
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined || !info.isDirectory() || now - info.mtimeMs <= olderThanMs) continue;
    await rm(dir, { recursive: true, force: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Bytes a spool keeps in memory before it moves them to a temporary file. */
export const SPOOL_MEMORY_BYTES = 4 * 1024 * 1024;

export interface SpoolOptions {
  readonly memoryBytes?: number;
  readonly dir?: string;
}

/**
 * Keeps a request body's bytes as they stream past, to be read again: in memory up to a threshold,
 * then in a temporary file, so a body of any size costs at most the threshold in memory. Used where a
 * body must be checked whole before anything is done with it, without being held parsed.
 * {@link BodySpool.dispose} removes the file; call it in a `finally`. Files a crashed process left
 * behind are removed by the next process's first spool to disk ({@link removeStaleSpools}).
 */
export class BodySpool {
  private readonly memory: Uint8Array[] = [];
  private memoryBytes = 0;
  private file: { dir: string; path: string; handle: FileHandle | undefined } | undefined;
  private written = 0;

  private readonly memoryLimit: number;
  private readonly parentDir: string;

  /** `memoryBytes`: kept in memory before moving to a file ({@link SPOOL_MEMORY_BYTES}); `dir`: where the file goes (the OS temp folder). */
  constructor(options: SpoolOptions = {}) {
    this.memoryLimit = options.memoryBytes ?? SPOOL_MEMORY_BYTES;
    this.parentDir = options.dir ?? tmpdir();
  }

  /** Bytes written so far. */
  get size(): number {
    return this.written;
  }

  /** True once the bytes went to a temporary file. */
  get onDisk(): boolean {
    return this.file !== undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.written += chunk.byteLength;
    if (this.file === undefined && this.memoryBytes + chunk.byteLength <= this.memoryLimit) {
      // The body's chunk may be a view of a pooled buffer: copy it.
      this.memory.push(Uint8Array.prototype.slice.call(chunk));
      this.memoryBytes += chunk.byteLength;
      return;
    }
    const handle = await this.fileHandle();
    await handle.write(chunk);
  }

  /** Ends writing; the bytes can then be read, any number of times. */
  async finish(): Promise<void> {
    const handle = this.file?.handle;
    if (handle === undefined) return;
    if (this.file !== undefined) this.file.handle = undefined;
    await handle.close();
  }

  /** The bytes written, in order, in chunks of at most 64 KiB from the file. */
  async *read(): AsyncGenerator<Uint8Array> {
    if (this.file?.handle !== undefined) throw new Error('BodySpool.read before finish');
    const path = this.file?.path;
    if (path === undefined) {
      yield* this.memory;
      return;
    }
    // The in-memory head was written to the file when the spool moved there.
    yield* createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Uint8Array>;
  }

  async dispose(): Promise<void> {
    this.memory.length = 0;
    this.memoryBytes = 0;
    const file = this.file;
    this.file = undefined;
    if (file === undefined) return;
    await file.handle?.close().catch(() => undefined);
    await rm(file.dir, { recursive: true, force: true });
  }

  private async fileHandle(): Promise<FileHandle> {
    if (this.file?.handle !== undefined) return this.file.handle;
    if (this.file !== undefined) throw new Error('BodySpool.write after finish');
    // The first spool to disk in a process clears what a crashed one left in the same folder.
    if (!sweptParents.has(this.parentDir)) {
      sweptParents.add(this.parentDir);
      await removeStaleSpools(this.parentDir);
    }
    const dir = await mkdtemp(join(this.parentDir, 'body-spool-'));
    const path = join(dir, 'body');
    const handle = await open(path, 'wx', 0o600);
    this.file = { dir, path, handle };
    for (const chunk of this.memory) await handle.write(chunk);
    this.memory.length = 0;
    this.memoryBytes = 0;
    return handle;
  }
}
