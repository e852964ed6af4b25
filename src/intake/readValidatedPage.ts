import type { z } from 'zod';
import { BodySpool, type SpoolOptions } from '../httpApi/bodySpool.js';
import { checkItem, IssueList, readValues, tooManyItems, type BodyFormat, type ReadLimits } from './readContacts.js';

/** A page whose every item passed the door's checks, to be read again one item at a time. */
export interface ValidatedPage<T> {
  /** Items in the page. */
  readonly count: number;
  /** Each distinct id (`idOf`) and the position of the first item that has it. */
  readonly firstSeen: ReadonlyMap<string, number>;
  /** The items in order, parsed again from the kept bytes as they are pulled: the page is never held parsed. */
  items(): AsyncGenerator<T>;
  /** Lets go of the kept bytes (and their temporary file). */
  dispose(): Promise<void>;
}

export interface PageReadOptions<T> extends ReadLimits {
  /** The id duplicates are judged by (a contact's id). */
  readonly idOf: (item: T) => string;
  /** Where the page's bytes are kept (memory up to a threshold, then a temporary file): {@link BodySpool}'s defaults. */
  readonly spool?: SpoolOptions;
}

/**
 * Reads a page of items in two passes so that nothing is held parsed and a bad item still fails the
 * whole request before anything is done. The first pass checks every item as the bytes arrive (the same
 * checks and 400 / 413 answers as {@link readItems}) while a {@link BodySpool} keeps the bytes; it
 * keeps only the count and each id's first position. The second pass ({@link ValidatedPage.items}) parses
 * the kept bytes again, one item at a time, at the pace its reader pulls (planning a slice at a time).
 * On an error the bytes are let go of before it is thrown; otherwise the caller disposes the page.
 */
export async function readValidatedPage<S extends z.ZodType>(
  body: AsyncIterable<Uint8Array> | null,
  format: BodyFormat,
  schema: S,
  options: PageReadOptions<z.infer<S>>,
): Promise<ValidatedPage<z.infer<S>>> {
  const spool = new BodySpool(options.spool);
  const firstSeen = new Map<string, number>();
  const issues = new IssueList();
  let count = 0;
  try {
    for await (const { value, label } of readValues(body === null ? null : keptIn(body, spool), format)) {
      if (++count > options.maxItems) throw tooManyItems(options.maxItems);
      const checked = checkItem(value, label, schema);
      if (!checked.ok) issues.add(checked.issues);
      else if (issues.empty) {
        const id = options.idOf(checked.data);
        if (!firstSeen.has(id)) firstSeen.set(id, count - 1);
      }
    }
    issues.throwIfAny();
    await spool.finish();
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  return {
    count,
    firstSeen,
    async *items() {
      for await (const { value, label } of readValues(spool.read(), format)) {
        // Checked in the first pass; the schema runs again for its output (defaults, transforms).
        const parsed = schema.safeParse(value);
        if (!parsed.success) throw new Error(`the kept page no longer passes its checks at ${label}`);
        yield parsed.data;
      }
    },
    dispose: () => spool.dispose(),
  };
}

/** The body's chunks as they arrive, each written to the spool first. */
async function* keptIn(body: AsyncIterable<Uint8Array>, spool: BodySpool): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    await spool.write(chunk);
    yield chunk;
  }
}
