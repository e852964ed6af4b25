import { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * App settings by name, as Azure Functions passes them (environment variables; locally from
 * local.settings.json). Loaded once, validated, frozen. Every setting is listed in
 * local.settings.sample.json with the value the local host uses.
 */
const positiveInt = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const settingsSchema = z
  .object({
    ENGAGEMENTS_FILE: z.string().min(1),
    /** Service Bus: a connection string, or (identity-based) `ServiceBusConnection__fullyQualifiedNamespace`. */
    ServiceBusConnection: z.string().min(1).optional(),
    ServiceBusConnection__fullyQualifiedNamespace: z.string().min(1).optional(),
    CONTACT_BATCHES_QUEUE: z.string().min(1).default('contact-batches'),
    /** Table Storage: a connection string (UseDevelopmentStorage=true locally), or `AzureWebJobsStorage__tableServiceUri`. */
    AzureWebJobsStorage: z.string().min(1).optional(),
    AzureWebJobsStorage__tableServiceUri: z.url().optional(),
    /** Prefix for every table the app creates, so several deployments (or test runs) can share an account. */
    TABLE_PREFIX: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,20}$|^$/, 'expected letters and digits, starting with a letter, at most 21')
      .default(''),
    /** Largest segment page (members) or journey-event request (events) accepted; more gets 413. */
    INTAKE_MAX_PAGE_SIZE: positiveInt(100_000, 1_000_000),
    INTAKE_MAX_EVENTS: positiveInt(1_000, 100_000),
    /** Contacts per contact-batch message (messages are also kept under the queue's max message size). */
    BATCH_MAX_CONTACTS: positiveInt(500, 10_000),
    /** Parallel Table Storage reads while planning (frequency ledger). */
    STORE_READ_CONCURRENCY: positiveInt(32, 256),
  });

/** Pairs of "connection string or identity-based" settings; one of each pair is required. */
const REQUIRED_CONNECTIONS = [
  ['ServiceBusConnection', 'ServiceBusConnection__fullyQualifiedNamespace', 'connection string'],
  ['AzureWebJobsStorage', 'AzureWebJobsStorage__tableServiceUri', 'connection string'],
] as const;

export type Settings = Readonly<z.infer<typeof settingsSchema>>;

/** Names of settings whose values are secrets: never echoed in errors or logs. */
const SECRET_SETTINGS = new Set(['ServiceBusConnection', 'AzureWebJobsStorage']);

/**
 * Reads and validates the settings. Fails fast with one error listing every bad setting by name;
 * secret values are never echoed.
 */
export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): Settings {
  const input: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = settingsSchema.safeParse(input);
  const lines = (result.success ? [] : result.error.issues).map((issue) => {
    const name = String(issue.path[0] ?? '(settings)');
    const hint = SECRET_SETTINGS.has(name) ? '' : ` (got ${JSON.stringify(input[name] ?? null)})`;
    return `  - ${name}: ${issue.message}${hint}`;
  });
  for (const [plain, identity, kind] of REQUIRED_CONNECTIONS) {
    if (input[plain] === undefined && input[identity] === undefined) lines.push(`  - ${plain}: set ${plain} (${kind}) or ${identity}`);
  }
  if (!result.success || lines.length > 0) throw new UserError('InvalidSettings', `invalid app settings:\n${lines.join('\n')}`);
  return Object.freeze(result.data);
}
