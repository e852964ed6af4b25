import type { z } from 'zod';

/**
 * Error codes the product raises on purpose. User faults (bad input or configuration) are never
 * retryable; system faults say whether a retry can help.
 */
export type ErrorCode =
  | 'InvalidSettings'
  | 'InvalidEngagementFile'
  | 'InvalidRequest'
  | 'EngagementNotFound'
  /** The request conflicts with the resource's current state (e.g. resuming an engagement a rule stopped). */
  | 'Conflict'
  | 'PayloadTooLarge'
  | 'Unauthorized'
  | 'OutcomeRefused'
  | 'InvalidMessage'
  | 'DependencyFailed'
  | 'Throttled';

/** A caller's or operator's mistake: fix the input, do not retry. */
export class UserError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A dependency failed (network, throttling, a 5xx); `retryable` says whether trying again can help. */
export class SystemError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SystemError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** One problem in an input: where (a JSON path such as `contacts[3].phones.mobile`) and what was expected. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** Renders a zod path as `a.b[2].c`, the form error messages and 400 bodies use. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function toFieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

/** Normalises anything thrown into an Error, once, at the boundary that catches it. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `non-error thrown: ${safeStringify(value)}`);
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
