import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { UserError, toFieldIssues } from '../../errors.js';
import { retryOptionsSchema } from '../../http/retryOptions.js';
import type { DeliveryRefStore } from './deliveryRefStore.js';
import type { ThrottleStore } from './throttleStore.js';

/** Records per CCaaS_CreateProactiveDeliveryBulkV2 request Microsoft documents ("approximately 15,000"). */
export const BULK_MAX_RECORDS = 15_000;

/**
 * Default records per bulk request: well under the documented limit, so one request body stays
 * around 0.2 MB (measured: 193 KB for 1,000 records; 15,000 would be 2.9 MB) and a throttled or
 * refused chunk is cheap to resend.
 */
export const DEFAULT_BULK_CHUNK_SIZE = 1_000;

/** The CCaaS API version every documented action takes. */
export const DEFAULT_CCAAS_API_VERSION = '1.0';

const isFunction = (value: unknown): boolean => typeof value === 'function';

/** A local Dataverse stand-in (dev/dataverse) on this machine: the one place plain http is accepted. */
export function isLoopbackUrl(value: string): boolean {
  const { protocol, hostname } = new URL(value);
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

const orgUrlSchema = z
  .url({ protocol: /^https?$/, error: 'expected the organization URL, https://<org>.crm.dynamics.com' })
  .refine((value) => value.startsWith('https:') || isLoopbackUrl(value), 'expected https (plain http only for a local stand-in on 127.0.0.1 or localhost)')
  .refine((value) => {
    const url = new URL(value);
    return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
  }, 'give the organization URL only (https://<org>.crm.dynamics.com), without a path such as /api/data/v9.2')
  .transform((value) => new URL(value).origin);

export const dynamics365DialerOptionsSchema = z.strictObject({
  /** The Dataverse organization, e.g. https://contoso.crm.dynamics.com; also the token audience. */
  orgUrl: orgUrlSchema,
  /** Production passes DefaultAzureCredential (managed identity in Azure). */
  credential: z.custom<TokenCredential>(
    (value) => typeof value === 'object' && value !== null && isFunction((value as { getToken?: unknown }).getToken),
    'expected a TokenCredential from @azure/identity (an object with getToken)',
  ),
  apiVersion: z
    .string()
    .regex(/^\d+\.\d+$/, 'expected a CCaaS API version such as "1.0"')
    .default(DEFAULT_CCAAS_API_VERSION),
  /** Plain deliveries go to CCaaS_CreateProactiveDeliveryBulkV2 in chunks of this size; false sends every delivery singly. */
  useBulk: z.boolean().default(true),
  bulkChunkSize: z.int().min(1).max(BULK_MAX_RECORDS).default(DEFAULT_BULK_CHUNK_SIZE),
  /**
   * Dataverse requests in flight at once for one dial() call. Dataverse allows 52 concurrent
   * requests per user; 4 leaves room for other instances sharing the application user.
   */
  concurrency: z.int().min(1).max(32).default(4),
  retry: retryOptionsSchema.prefault({}),
  refStore: z
    .custom<DeliveryRefStore>(
      (value) => typeof value === 'object' && value !== null && ['get', 'put', 'delete'].every((key) => isFunction((value as Record<string, unknown>)[key])),
      'expected a DeliveryRefStore (get, put, delete)',
    )
    .optional(),
  /** Service protection state shared across ticks and instances; in memory (this process only) by default. */
  throttleStore: z
    .custom<ThrottleStore>(
      (value) => typeof value === 'object' && value !== null && ['get', 'extend'].every((key) => isFunction((value as Record<string, unknown>)[key])),
      'expected a ThrottleStore (get, extend)',
    )
    .optional(),
  /**
   * How long Dataverse is left alone after a burst of 5xx or network failures outlasted the retries
   * (a 429 says how long itself, in Retry-After).
   */
  faultPauseMs: z.int().min(0).max(600_000).default(30_000),
  /** The clock (epoch ms) for throttling state and retry budgets; Date.now by default. */
  now: z.custom<() => number>(isFunction, 'expected a function').optional(),
  /** Receives operational warnings (bulk fallback, a cancel D365 refused); never data beyond delivery ids. */
  onWarning: z.custom<(message: string) => void>(isFunction, 'expected a function').optional(),
  /** Jitter source, injectable for tests. */
  random: z.custom<() => number>(isFunction, 'expected a function').optional(),
  /** The wait between retries, injectable for tests: `(ms, signal) => Promise<void>`, rejecting when `signal` aborts. */
  sleep: z.custom<(ms: number, signal: AbortSignal | undefined) => Promise<void>>(isFunction, 'expected a function').optional(),
});

export type Dynamics365DialerOptionsInput = z.input<typeof dynamics365DialerOptionsSchema>;
export type Dynamics365DialerOptions = z.output<typeof dynamics365DialerOptionsSchema>;

/** Validates the dialer's options; a bad one is an operator's mistake reported with its field path. */
export function parseDynamics365DialerOptions(input: Dynamics365DialerOptionsInput): Dynamics365DialerOptions {
  const result = dynamics365DialerOptionsSchema.safeParse(input);
  if (!result.success) {
    const issues = toFieldIssues(result.error);
    throw new UserError('InvalidSettings', `invalid Dynamics 365 dialer options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return result.data;
}
