import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contactInputSchema, type ContactInput } from '../../src/contacts/contactInput.js';
import { UserError } from '../../src/errors.js';
import { readValidatedPage, type ValidatedPage } from '../../src/intake/readValidatedPage.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'page-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const member = (i: number, id = `c${i}`) => ({ contactId: id, phones: { mobile: `+1212555${String(1000 + i)}` }, attributes: { n: i } });

/** The body in chunks of `size` bytes, as a request stream delivers it (split mid-line). */
function body(text: string, size = 64): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) controller.close();
      else controller.enqueue(bytes.slice(at, (at += size)));
    },
  });
}

async function all(page: ValidatedPage<ContactInput>): Promise<ContactInput[]> {
  const items: ContactInput[] = [];
  for await (const item of page.items()) items.push(item);
  return items;
}

const options = (memoryBytes: number) => ({ maxItems: 1000, idOf: (c: ContactInput) => c.contactId, spool: { memoryBytes, dir } });

describe('readValidatedPage', () => {
  it.each([
    ['NDJSON, kept in memory', 'ndjson', 1 << 20],
    ['NDJSON, kept in a temporary file', 'ndjson', 256],
    ['a JSON array, kept in a temporary file', 'json', 256],
  ] as const)('%s: the second pass gives every member as the schema parses it, in order', async (_, format, memoryBytes) => {
    const members = Array.from({ length: 200 }, (_, i) => member(i, i === 150 ? 'c7' : `c${i}`));
    const text = format === 'ndjson' ? members.map((m) => JSON.stringify(m)).join('\n') : JSON.stringify(members);
    const page = await readValidatedPage(body(text), format, contactInputSchema, options(memoryBytes));
    expect(page.count).toBe(200);
    // The repeated id keeps its first position.
    expect(page.firstSeen.size).toBe(199);
    expect(page.firstSeen.get('c7')).toBe(7);
    expect(page.firstSeen.get('c199')).toBe(199);
    const expected = members.map((m) => contactInputSchema.parse(m));
    expect(await all(page)).toEqual(expected);
    // Readable again (a retry inside the same request would see the same members).
    expect(await all(page)).toEqual(expected);
    expect(await readdir(dir)).toHaveLength(memoryBytes < text.length ? 1 : 0);
    await page.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a bad member anywhere fails the whole page with every field path, and keeps nothing', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify(member(i)));
    lines[3] = JSON.stringify({ ...member(3), phones: 'none' });
    lines[97] = JSON.stringify({ ...member(97), contactId: 5 });
    const error = await readValidatedPage(body(lines.join('\n')), 'ndjson', contactInputSchema, options(256)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'InvalidRequest' });
    const paths = (error as UserError).details?.map((i) => i.path) ?? [];
    expect(paths).toContain('[3].phones');
    expect(paths).toContain('[97].contactId');
    expect(await readdir(dir)).toEqual([]);
  });

  it('more members than allowed is a 413, and nothing is kept', async () => {
    const text = Array.from({ length: 30 }, (_, i) => JSON.stringify(member(i))).join('\n');
    const error = await readValidatedPage(body(text), 'ndjson', contactInputSchema, { ...options(64), maxItems: 29 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PayloadTooLarge' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('broken JSON in the array is a 400 naming the body, and nothing is kept', async () => {
    const text = `[${JSON.stringify(member(1))}, {"contactId": "c2", ]`;
    const error = await readValidatedPage(body(text, 7), 'json', contactInputSchema, options(8)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidRequest', details: [{ path: '(root)' }] });
    expect(await readdir(dir)).toEqual([]);
  });
});
