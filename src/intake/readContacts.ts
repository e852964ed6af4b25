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

/**
 * Reads a body of items (a JSON array, a single JSON object, or NDJSON) as a stream and validates each
 * item as it arrives, so a 100k-member page is held once, as validated objects, never as text and
 * objects together. Every invalid item is reported (up to MAX_REPORTED_ISSUES) with its index and field
 * path; any issue fails the whole body, so nothing is planned from a partly bad page.
 */
export async function readItems<S extends z.ZodType>(
  body: ReadableStream<Uint8Array> | null,
  format: BodyFormat,
  schema: S,
  limits: ReadLimits,
): Promise<z.infer<S>[]> {
  if (body === null) throw new UserError('InvalidRequest', 'the request has no body', [{ path: '(root)', message: 'expected a body' }]);
  const items: z.infer<S>[] = [];
  const issues: FieldIssue[] = [];
  let issueCount = 0;
  let count = 0;
  const accept = (value: unknown, label: string) => {
    count++;
    if (count > limits.maxItems) {
      throw new UserError('PayloadTooLarge', `more than ${limits.maxItems} items in one request; split the page`);
    }
    const unsafe = checkJsonValue(value, label);
    if (unsafe !== undefined) {
      issueCount++;
      if (issues.length < MAX_REPORTED_ISSUES) issues.push(unsafe);
      return;
    }
    const result = schema.safeParse(value);
    if (result.success) {
      if (issueCount === 0) items.push(result.data);
      return;
    }
    for (const issue of result.error.issues) {
      issueCount++;
      if (issues.length < MAX_REPORTED_ISSUES) issues.push({ path: formatPath(issue.path, label), message: issue.message });
    }
  };
  if (format === 'ndjson') await readNdjson(body, accept);
  else await readJson(body, accept);
  if (issueCount > 0) {
    const more = issueCount - issues.length;
    throw new UserError(
      'InvalidRequest',
      `${issueCount} invalid field${issueCount === 1 ? '' : 's'}${more > 0 ? ` (first ${issues.length} listed)` : ''}`,
      issues,
    );
  }
  return items;
}

/** A lone JSON object (one journey event) is read whole; this caps its size. */
const MAX_SINGLE_OBJECT_BYTES = 1024 * 1024;

async function readJson(body: ReadableStream<Uint8Array>, accept: (value: unknown, label: string) => void): Promise<void> {
  const reader = body.getReader();
  const first = await firstNonBlank(reader);
  if (first === undefined) throw new UserError('InvalidRequest', 'the body is empty', [{ path: '(root)', message: 'expected an array or object' }]);
  const { chunks } = first;
  if (first.char === '{') {
    const text = await readAll(reader, chunks);
    accept(parseJson(text), '');
    return;
  }
  if (first.char !== '[') {
    throw new UserError('InvalidRequest', 'expected a JSON array of items or a single object', [{ path: '(root)', message: 'expected an array or object' }]);
  }
  // `$.*` emits each array member once parsed; keepStack false drops it from the parser afterwards,
  // so the array itself never accumulates.
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let index = 0;
  let failure: Error | undefined;
  // Bytes written since the last item ended (give or take the tail of one chunk): one item's size.
  let itemBytes = 0;
  const write = (chunk: Uint8Array) => {
    itemBytes += chunk.byteLength;
    parser.write(chunk);
    if (failure === undefined && itemBytes > MAX_ITEM_BYTES) {
      failure = new UserError('PayloadTooLarge', `item [${index}] is larger than ${MAX_ITEM_BYTES} bytes`);
    }
  };
  parser.onValue = ({ value, stack }) => {
    if (failure !== undefined || stack.length !== 1) return;
    itemBytes = 0;
    try {
      accept(value, `[${index++}]`);
    } catch (error) {
      failure = ensureError(error);
    }
  };
  try {
    for (const chunk of chunks) write(chunk);
    for (;;) {
      if (failure !== undefined) break;
      const { done, value } = await reader.read();
      if (done) break;
      write(value);
    }
    if (failure === undefined && !parser.isEnded) parser.end();
  } catch (error) {
    throw new UserError('InvalidRequest', `the body is not valid JSON: ${ensureError(error).message}`, [{ path: '(root)', message: 'expected valid JSON' }]);
  } finally {
    if (failure !== undefined) await reader.cancel().catch(() => undefined);
  }
  if (failure !== undefined) throw failure;
}

async function firstNonBlank(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{ char: string; chunks: Uint8Array[] } | undefined> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return undefined;
    chunks.push(value);
    for (const byte of value) {
      if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09 && byte !== 0xef && byte !== 0xbb && byte !== 0xbf) {
        return { char: String.fromCharCode(byte), chunks };
      }
    }
  }
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, chunks: Uint8Array[]): Promise<string> {
  let size = chunks.reduce((n, c) => n + c.byteLength, 0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SINGLE_OBJECT_BYTES) {
      await reader.cancel();
      throw new UserError('PayloadTooLarge', `a single JSON object may be at most ${MAX_SINGLE_OBJECT_BYTES} bytes; send an array`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError('InvalidRequest', `the body is not valid JSON: ${ensureError(error).message}`, [{ path: '(root)', message: 'expected valid JSON' }]);
  }
}

async function readNdjson(body: ReadableStream<Uint8Array>, accept: (value: unknown, label: string) => void): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffered = '';
  let line = 0;
  let index = 0;
  const take = (text: string) => {
    line++;
    if (text.trim() === '') return;
    if (text.length > MAX_ITEM_BYTES) throw new UserError('PayloadTooLarge', `line ${line} is longer than ${MAX_ITEM_BYTES} bytes`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UserError('InvalidRequest', `line ${line} is not valid JSON`, [{ path: `[${index}]`, message: `line ${line}: ${(error as Error).message}` }]);
    }
    accept(value, `[${index++}]`);
  };
  try {
    for await (const chunk of body) {
      const lines = (buffered + decoder.decode(chunk, { stream: true })).split('\n');
      buffered = lines.pop() ?? '';
      for (const text of lines) take(text);
      // A line is one item: capping it keeps reading linear (an unbounded line would be re-joined per chunk).
      if (buffered.length > MAX_ITEM_BYTES) throw new UserError('PayloadTooLarge', `line ${line + 1} is longer than ${MAX_ITEM_BYTES} bytes`);
    }
    buffered += decoder.decode();
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('InvalidRequest', `the body is not valid UTF-8 NDJSON: ${(error as Error).message}`, [
      { path: '(root)', message: 'expected UTF-8 text' },
    ]);
  }
  if (buffered.trim() !== '') take(buffered);
}
