import { readFile } from 'node:fs/promises';
import { Duration } from 'luxon';
import { z } from 'zod';
import { describeError } from './amqpConditionError.js';

/** Service Bus defaults for properties an emulator config leaves out. */
const DEFAULT_LOCK_DURATION = 'PT1M';
const DEFAULT_MAX_DELIVERY_COUNT = 10;
const DEFAULT_DUPLICATE_DETECTION_WINDOW = 'PT10M';

/** The effective, validated settings of one queue, durations in milliseconds. */
export interface QueueSettings {
  readonly name: string;
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
  /** `Infinity` when the config sets no default time to live. */
  readonly defaultMessageTtlMs: number;
  readonly deadLetteringOnMessageExpiration: boolean;
}

export interface BrokerSettings {
  readonly namespace: string;
  readonly queues: readonly QueueSettings[];
}

const isoDuration = z.string().transform((text, ctx) => {
  const duration = Duration.fromISO(text);
  const ms = duration.isValid ? duration.toMillis() : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a positive ISO-8601 duration such as "PT1M" or "P14D", got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** Forwarding is declared by the emulator format but not implemented here: only an empty value is accepted. */
const unsupportedForward = z
  .string()
  .refine((value) => value === '', { message: 'auto-forwarding is not supported by the local broker; leave it empty' })
  .optional();

const queuePropertiesSchema = z.strictObject({
  DeadLetteringOnMessageExpiration: z.boolean().default(false),
  DefaultMessageTimeToLive: isoDuration.optional(),
  DuplicateDetectionHistoryTimeWindow: isoDuration.prefault(DEFAULT_DUPLICATE_DETECTION_WINDOW),
  LockDuration: isoDuration.prefault(DEFAULT_LOCK_DURATION),
  MaxDeliveryCount: z.number().int().min(1).default(DEFAULT_MAX_DELIVERY_COUNT),
  RequiresDuplicateDetection: z.boolean().default(false),
  RequiresSession: z
    .boolean()
    .default(false)
    .refine((value) => !value, {
      message: 'sessions are not supported by the local Service Bus broker; set RequiresSession to false',
    }),
  ForwardTo: unsupportedForward,
  ForwardDeadLetteredMessagesTo: unsupportedForward,
});

/** Entity names are used as AMQP addresses; `/` and `$` would collide with `$DeadLetterQueue` and `$management`. */
const entityName = z
  .string()
  .min(1)
  .max(260)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'a queue name has letters, digits, ".", "_" and "-" only' });

const queueSchema = z.strictObject({
  Name: entityName,
  Properties: queuePropertiesSchema.prefault({}),
});

const namespaceSchema = z.strictObject({
  Name: z.string().min(1),
  Queues: z.array(queueSchema).default([]),
  Topics: z
    .array(z.unknown())
    .default([])
    .refine((topics) => topics.length === 0, {
      message: 'topics and subscriptions are not supported by the local broker; declare queues only',
    }),
});

export const emulatorConfigSchema = z.strictObject({
  UserConfig: z.strictObject({
    Namespaces: z
      .array(namespaceSchema)
      .length(1, { message: 'the local broker serves exactly one namespace (the emulator uses "sbemulatorns")' })
      .superRefine((namespaces, ctx) => {
        namespaces.forEach((namespace, n) => {
          const seen = new Map<string, number>();
          namespace.Queues.forEach((queue, q) => {
            // Service Bus entity names are case-insensitive.
            const key = queue.Name.toLowerCase();
            const first = seen.get(key);
            if (first !== undefined) {
              ctx.addIssue({
                code: 'custom',
                path: [n, 'Queues', q, 'Name'],
                message: `duplicate queue name "${queue.Name}" (also at Queues[${first}])`,
              });
            }
            seen.set(key, q);
          });
        });
      }),
    Logging: z.looseObject({ Type: z.string() }).optional(),
  }),
});

/** The emulator's JSON config as written by users (durations as ISO-8601 strings). */
export type BrokerConfig = z.input<typeof emulatorConfigSchema>;

/** One queue as the emulator's config declares it. */
export type QueueDeclaration = NonNullable<BrokerConfig['UserConfig']['Namespaces'][number]['Queues']>[number];

/** An emulator-format config with the given queues in the emulator's one namespace (tests, benchmarks). */
export function configWith(queues: readonly QueueDeclaration[]): BrokerConfig {
  return {
    UserConfig: {
      Namespaces: [{ Name: 'sbemulatorns', Queues: [...queues], Topics: [] }],
      Logging: { Type: 'Console' },
    },
  };
}

export class BrokerConfigError extends Error {
  override readonly name = 'BrokerConfigError';
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Validates an emulator config object and resolves it to per-queue settings. `origin` names it in errors. */
export function parseBrokerConfig(raw: unknown, origin = 'config'): BrokerSettings {
  const result = emulatorConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
    throw new BrokerConfigError(`invalid Service Bus broker config (${origin}):\n${lines.join('\n')}`);
  }
  const [namespace] = result.data.UserConfig.Namespaces;
  if (namespace === undefined) {
    throw new BrokerConfigError(`invalid Service Bus broker config (${origin}): no namespace`);
  }
  return {
    namespace: namespace.Name,
    queues: namespace.Queues.map((queue) => ({
      name: queue.Name,
      lockDurationMs: queue.Properties.LockDuration,
      maxDeliveryCount: queue.Properties.MaxDeliveryCount,
      requiresDuplicateDetection: queue.Properties.RequiresDuplicateDetection,
      duplicateDetectionWindowMs: queue.Properties.DuplicateDetectionHistoryTimeWindow,
      defaultMessageTtlMs: queue.Properties.DefaultMessageTimeToLive ?? Number.POSITIVE_INFINITY,
      deadLetteringOnMessageExpiration: queue.Properties.DeadLetteringOnMessageExpiration,
    })),
  };
}

/** Reads and validates an emulator config file. */
export async function loadBrokerConfigFile(path: string): Promise<BrokerSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BrokerConfigError(`cannot read Service Bus broker config ${path}: ${describeError(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BrokerConfigError(`Service Bus broker config ${path} is not valid JSON: ${describeError(error)}`);
  }
  return parseBrokerConfig(raw, path);
}

/** Accepts what `startServiceBusBroker` takes: a config object or the path of a config file. */
export function resolveBrokerConfig(config: BrokerConfig | string): Promise<BrokerSettings> {
  return typeof config === 'string' ? loadBrokerConfigFile(config) : Promise.resolve(parseBrokerConfig(config));
}
