import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BodySpool, STALE_SPOOL_MS } from '../../src/httpApi/bodySpool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function readBack(spool: BodySpool): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of spool.read()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const chunkOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('BodySpool', () => {
  it('a body under the threshold stays in memory and reads back whole, twice', async () => {
    const spool = new BodySpool({ memoryBytes: 1024, dir });
    await spool.write(chunkOf(300, 1));
    await spool.write(chunkOf(300, 2));
    await spool.finish();
    expect(spool.onDisk).toBe(false);
    expect(await readdir(dir)).toEqual([]);
    const expected = Buffer.concat([chunkOf(300, 1), chunkOf(300, 2)]);
    expect((await readBack(spool)).equals(expected)).toBe(true);
    expect((await readBack(spool)).equals(expected)).toBe(true);
    await spool.dispose();
  });

  it('a body past the threshold moves to a temporary file, in order, and the file is removed on dispose', async () => {
    const spool = new BodySpool({ memoryBytes: 1000, dir });
    const chunks = Array.from({ length: 40 }, (_, i) => chunkOf(97 + i, i));
    for (const chunk of chunks) await spool.write(chunk);
    await spool.finish();
    expect(spool.onDisk).toBe(true);
    expect(spool.size).toBe(chunks.reduce((n, c) => n + c.byteLength, 0));
    expect(await readdir(dir)).toHaveLength(1);
    expect((await readBack(spool)).equals(Buffer.concat(chunks))).toBe(true);
    await spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a chunk the writer reuses afterwards is kept as it was written', async () => {
    const spool = new BodySpool({ memoryBytes: 1024, dir });
    const reused = chunkOf(10, 7);
    await spool.write(reused);
    reused.fill(0);
    await spool.finish();
    expect([...(await readBack(spool))]).toEqual(Array(10).fill(7));
    await spool.dispose();
  });

  it('disposing before finish (a failed first pass) removes the file', async () => {
    const spool = new BodySpool({ memoryBytes: 10, dir });
    await spool.write(chunkOf(100, 1));
    expect(await readdir(dir)).toHaveLength(1);
    await spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it("the first spool to disk removes what a crashed process left (folders older than an hour), not another request's", async () => {
    const leftover = join(dir, 'body-spool-crashed');
    const live = join(dir, 'body-spool-live');
    for (const folder of [leftover, live]) {
      await mkdir(folder);
      await writeFile(join(folder, 'body'), 'x');
    }
    const old = new Date(Date.now() - STALE_SPOOL_MS - 60_000);
    await utimes(leftover, old, old);
    await writeFile(join(dir, 'body-spool-not-a-folder'), 'x');
    await utimes(join(dir, 'body-spool-not-a-folder'), old, old);

    const spool = new BodySpool({ memoryBytes: 1, dir });
    await spool.write(chunkOf(10, 1));
    await spool.finish();
    const left = await readdir(dir);
    expect(left).not.toContain('body-spool-crashed');
    expect(left).toContain('body-spool-live');
    expect(left).toContain('body-spool-not-a-folder');
    expect(left).toHaveLength(3); // the two kept and this spool's own folder
    await spool.dispose();
  });
});
