import { JSONParser } from '@streamparser/json';
import type { z } from 'zod';
import { isWellFormed } from '../contacts/wellFormed.js';
import { ensureError, formatPath, UserError, type FieldIssue } from '../errors.js';

/** At most this many issues are listed in a 400; the rest are counted. */
export const MAX_REPORTED_ISSUES = 100;

export interface ReadLimits {
  /** Most items accepted; one more and reading stops with PayloadTooLarge. */
  readonly maxItems: number;
}

/** Deepest nesting an item may have: contacts and events are at most four levels deep. */
export const MAX_ITEM_DEPTH = 8;
/** Bytes one NDJSON line (one item) may take. */
export const MAX_ITEM_BYTES = 64 * 1024;
/** Keys that could reach an object's prototype when a value is spread or merged. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a parsed value before the schema sees it: no lone surrogates (Table Storage and Service Bus
 * cannot carry them), no prototype keys, bounded nesting. Returns the first problem with its path.
 */
export function checkJsonValue(value: unknown, label: string): FieldIssue | undefined {
  const walk = (v: unknown, path: string, depth: number): FieldIssue | undefined => {
    if (typeof v === 'string')
      return isWellFormed(v) ? undefined : { path: path || '(root)', message: 'expected well-formed Unicode text (a lone surrogate was found)' };
    if (typeof v !== 'object' || v === null) return undefined;
    if (depth > MAX_ITEM_DEPTH) return { path: path || '(root)', message: `nested deeper than ${MAX_ITEM_DEPTH} levels` };
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) {
        const issue = walk(item, `${path}[${i}]`, depth + 1);
        if (issue !== undefined) return issue;
      }
      return undefined;
    }
    for (const [key, item] of Object.entries(v)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (FORBIDDEN_KEYS.has(key) || !isWellFormed(key)) return { path: isWellFormed(at) ? at : path || '(root)', message: 'this key is not allowed' };
      const issue = walk(item, at, depth + 1);
      if (issue !== undefined) return issue;
    }
    return undefined;
  };
  return walk(value, label, 0);
}

export type BodyFormat = 'json' | 'ndjson';

/** NDJSON when the content type says so (`application/x-ndjson`, `application/jsonl`, ...), JSON otherwise. */
export function bodyFormat(contentType: string | null): BodyFormat {
  return contentType !== null && /ndjson|jsonl|json-seq|jsonlines/i.test(contentType) ? 'ndjson' : 'json';
}

/** One item of a body as parsed, before any check: its value and its label (`[index]`, or `''` for a lone object). */
export interface BodyValue {
  readonly value: unknown;
  readonly label: string;
}

/** The result of checking one item: the schema's output, or every issue found with its field path. */
export type ItemCheck<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

/** Checks one parsed item: well-formed text, no prototype keys, bounded depth ({@link checkJsonValue}), then the schema. */
export function checkItem<S extends z.ZodType>(value: unknown, label: string, schema: S): ItemCheck<z.infer<S>> {
  const unsafe = checkJsonValue(value, label);
  if (unsafe !== undefined) return { ok: false, issues: [unsafe] };
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, issues: result.error.issues.map((issue) => ({ path: formatPath(issue.path, label), message: issue.message })) };
}

/** Collects the issues of a body's items (at most {@link MAX_REPORTED_ISSUES} listed) and fails the body with all of them. */
export class IssueList {
  private readonly listed: FieldIssue[] = [];
  private total = 0;

  add(issues: readonly FieldIssue[]): void {
    for (const issue of issues) {
      this.total++;
      if (this.listed.length < MAX_REPORTED_ISSUES) this.listed.push(issue);
    }
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** Throws the 400 naming every listed issue, if there is any. */
  throwIfAny(): void {
    if (this.total === 0) return;
    const more = this.total - this.listed.length;
    throw new UserError(
      'InvalidRequest',
      `${this.total} invalid field${this.total === 1 ? '' : 's'}${more > 0 ? ` (first ${this.listed.length} listed)` : ''}`,
      this.listed,
    );
  }
}

/** The 413 for one item more than a request may hold. */
export function tooManyItems(maxItems: number): UserError {
  return new UserError('PayloadTooLarge', `more than ${maxItems} items in one request; split the page`);
}

/**
 * Reads a body of items (a JSON array, a single JSON object, or NDJSON) as a stream and validates each
 * item as it arrives. Every invalid item is reported (up to MAX_REPORTED_ISSUES) with its index and field
 * path; any issue fails the whole body, so nothing is planned from a partly bad page. The items are
 * returned together: for small bodies (journey events, call events, previews); a segment page is read
 * by {@link readValidatedPage} instead, which holds no parsed page.
 */
export async function readItems<S extends z.ZodType>(
  body: AsyncIterable<Uint8Array> | null,
  format: BodyFormat,
  schema: S,
  limits: ReadLimits,
): Promise<z.infer<S>[]> {
  const items: z.infer<S>[] = [];
  const issues = new IssueList();
  let count = 0;
  for await (const { value, label } of readValues(body, format)) {
    if (++count > limits.maxItems) throw tooManyItems(limits.maxItems);
    const checked = checkItem(value, label, schema);
    if (!checked.ok) issues.add(checked.issues);
    else if (issues.empty) items.push(checked.data);
  }
  issues.throwIfAny();
  return items;
}

/** A lone JSON object (one journey event) is read whole; this caps its size. */
const MAX_SINGLE_OBJECT_BYTES = 1024 * 1024;

/**
 * The items of a body, parsed one at a time as the bytes arrive and pulled by the caller (so the
 * caller's pace is the reading pace): NDJSON lines, the members of a JSON array, or a lone JSON object.
 * Malformed JSON or UTF-8 is a 400, an item past {@link MAX_ITEM_BYTES} a 413; the items are not checked here.
 * Stopping early (break, or a throw in the caller) cancels the body.
 */
export async function* readValues(body: AsyncIterable<Uint8Array> | null, format: BodyFormat): AsyncGenerator<BodyValue> {
  if (body === null) throw new UserError('InvalidRequest', 'the request has no body', [{ path: '(root)', message: 'expected a body' }]);
  if (format === 'ndjson') yield* ndjsonValues(body);
  else yield* jsonValues(body);
}

async function* jsonValues(body: AsyncIterable<Uint8Array>): AsyncGenerator<BodyValue> {
  const chunks = body[Symbol.asyncIterator]();
  try {
    const first = await firstNonBlank(chunks);
    if (first === undefined) throw new UserError('InvalidRequest', 'the body is empty', [{ path: '(root)', message: 'expected an array or object' }]);
    if (first.char === '{') {
      yield { value: parseJson(await readAll(chunks, first.chunks)), label: '' };
      return;
    }
    if (first.char !== '[') {
      throw new UserError('InvalidRequest', 'expected a JSON array of items or a single object', [{ path: '(root)', message: 'expected an array or object' }]);
    }
    // `$.*` emits each array member once parsed; keepStack false drops it from the parser afterwards,
    // so the array itself never accumulates.
    const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
    let index = 0;
    let ready: BodyValue[] = [];
    // Bytes written since the last item ended (give or take the tail of one chunk): one item's size.
    let itemBytes = 0;
    parser.onValue = ({ value, stack }) => {
      if (stack.length !== 1) return;
      itemBytes = 0;
      ready.push({ value, label: `[${index++}]` });
    };
    const write = (chunk: Uint8Array): BodyValue[] => {
      itemBytes += chunk.byteLength;
      try {
        parser.write(chunk);
      } catch (error) {
        throw invalidJson(error);
      }
      if (itemBytes > MAX_ITEM_BYTES) throw new UserError('PayloadTooLarge', `item [${index}] is larger than ${MAX_ITEM_BYTES} bytes`);
      const out = ready;
      ready = [];
      return out;
    };
    for (const chunk of first.chunks) yield* write(chunk);
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      yield* write(next.value);
    }
    try {
      if (!parser.isEnded) parser.end();
    } catch (error) {
      throw invalidJson(error);
    }
    yield* ready;
  } finally {
    // Stopped before the end (an error, or the caller stopped pulling): let go of the body.
    await chunks.return?.().catch(() => undefined);
  }
}

function invalidJson(error: unknown): UserError {
  return new UserError('InvalidRequest', `the body is not valid JSON: ${ensureError(error).message}`, [{ path: '(root)', message: 'expected valid JSON' }]);
}

async function firstNonBlank(chunks: AsyncIterator<Uint8Array>): Promise<{ char: string; chunks: Uint8Array[] } | undefined> {
  const seen: Uint8Array[] = [];
  for (;;) {
    const next = await chunks.next();
    if (next.done === true) return undefined;
    seen.push(next.value);
    for (const byte of next.value) {
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf) {
        return { char: String.fromCharCode(byte), chunks: seen };
      }
    }
  }
}

async function readAll(chunks: AsyncIterator<Uint8Array>, seen: Uint8Array[]): Promise<string> {
  let size = seen.reduce((n, c) => n + c.byteLength, 0);
  for (;;) {
    const next = await chunks.next();
    if (next.done === true) break;
    size += next.value.byteLength;
    if (size > MAX_SINGLE_OBJECT_BYTES) {
      throw new UserError('PayloadTooLarge', `a single JSON object may be at most ${MAX_SINGLE_OBJECT_BYTES} bytes; send an array`);
    }
    seen.push(next.value);
  }
  return new TextDecoder().decode(Buffer.concat(seen));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson(error);
  }
}

async function* ndjsonValues(body: AsyncIterable<Uint8Array>): AsyncGenerator<BodyValue> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffered = '';
  let line = 0;
  let index = 0;
  const take = (text: string): BodyValue | undefined => {
    line++;
    if (text.trim() === '') return undefined;
    if (text.length > MAX_ITEM_BYTES) throw new UserError('PayloadTooLarge', `line ${line} is longer than ${MAX_ITEM_BYTES} bytes`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UserError('InvalidRequest', `line ${line} is not valid JSON`, [{ path: `[${index}]`, message: `line ${line}: ${(error as Error).message}` }]);
    }
    return { value, label: `[${index++}]` };
  };
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new UserError('InvalidRequest', `the body is not valid UTF-8 NDJSON: ${(error as Error).message}`, [
        { path: '(root)', message: 'expected UTF-8 text' },
      ]);
    }
  };
  for await (const chunk of body) {
    const lines = (buffered + decode(chunk)).split('\n');
    buffered = lines.pop() ?? '';
    for (const text of lines) {
      const item = take(text);
      if (item !== undefined) yield item;
    }
    // A line is one item: capping it keeps reading linear (an unbounded line would be re-joined per chunk).
    if (buffered.length > MAX_ITEM_BYTES) throw new UserError('PayloadTooLarge', `line ${line + 1} is longer than ${MAX_ITEM_BYTES} bytes`);
  }
  buffered += decode();
  const last = take(buffered);
  if (last !== undefined) yield last;
}
