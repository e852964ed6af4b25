import { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * App settings by name, as Azure Functions passes them (environment variables; locally from
 * local.settings.json). Loaded once, validated, frozen. Every setting is listed in
 * local.settings.sample.json with the value the local host uses.
 */
const positiveInt = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const settingsSchema = z.object({
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
  /** Most call events (outcomes) accepted in one `POST /api/call-events` request; more gets 413. */
  CALL_EVENTS_MAX_EVENTS: positiveInt(1_000, 100_000),
  /** Contacts per contact-batch message (messages are also kept under the queue's max message size). */
  BATCH_MAX_CONTACTS: positiveInt(500, 10_000),
  /**
   * Time budget of the Table Storage and Service Bus calls one HTTP request makes; when it is spent the
   * request answers 503 with Retry-After. At most 200, under the Azure front end's 230 s cut-off.
   */
  REQUEST_DEPENDENCY_BUDGET_SECONDS: positiveInt(60, 200),
  /** Parallel Table Storage reads while planning (frequency ledger). */
  STORE_READ_CONCURRENCY: positiveInt(32, 256),
  /** Who places the calls: the embedded telephony simulator (local default) or Dynamics 365 Contact Center. */
  DIALER_BACKEND: z.enum(['simulator', 'dynamics365']).default('simulator'),
  /** Dataverse organisation URL, e.g. https://contoso.crm.dynamics.com (dynamics365 back-end). */
  DATAVERSE_URL: z
    .url({ protocol: /^https?$/, message: 'expected an https URL such as https://contoso.crm.dynamics.com' })
    .refine(
      (v) => v.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(v),
      'expected an https URL such as https://contoso.crm.dynamics.com (plain http only for the local stand-in on 127.0.0.1)',
    )
    .optional(),
  /** The local Dataverse stand-in's token signing key (npm start sets it); required with a loopback DATAVERSE_URL. */
  DATAVERSE_LOCAL_TOKEN_KEY: z.string().min(16).optional(),
  DATAVERSE_API_VERSION: z.string().min(1).default('1.0'),
  /** Send plain deliveries through CCaaS_CreateProactiveDeliveryBulkV2 (they cannot be cancelled one by one). */
  DYNAMICS_USE_BULK: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Where representative availability comes from; defaults to the simulator's own people with the simulator back-end, else Microsoft Graph. */
  PRESENCE_SOURCE: z.enum(['simulator', 'graph']).optional(),
  SIMULATOR_SEED: z.coerce.number().int().default(1),
  /** Simulated seconds per real second (60: a simulated minute passes each second). */
  SIMULATOR_TIME_SCALE: z.coerce.number().positive().max(3600).default(1),
  /** JSON call profile for the simulator (answer rates, handle times...); see docs. */
  SIMULATOR_PROFILE: z.string().optional(),
  /** NCRONTAB (with seconds) of the pacing timer; the timer binding reads it as %PACING_SCHEDULE%. */
  PACING_SCHEDULE: z.string().min(11).default('*/5 * * * * *'),
  /** The pacing lease, renewed every tick; another owner can take over this long after a crash. */
  PACING_LEASE_SECONDS: positiveInt(30, 600),
  /** Shared secret for the `X-Call-Events-Signature` HMAC of `POST /api/call-events`; required in Azure. */
  CALL_EVENTS_SIGNING_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. 32 random bytes, base64)').optional(),
  /** Storage account Customer Insights exports segments to: a connection string, or `SegmentExportsStorage__blobServiceUri`. */
  SegmentExportsStorage: z.string().min(1).optional(),
  SegmentExportsStorage__blobServiceUri: z.url().optional(),
  /** The container the segment-export blob trigger watches; the binding reads it as %SEGMENT_EXPORTS_CONTAINER%. */
  SEGMENT_EXPORTS_CONTAINER: z.string().min(3).default('customer-insights'),
  /** Data rows of an export file per published page and checkpoint. */
  SEGMENT_EXPORT_PAGE_SIZE: positiveInt(1_000, 100_000),
  /** NCRONTAB (with seconds) of the timer that sends journey outcomes; the binding reads it as %JOURNEY_OUTBOX_SCHEDULE%. */
  JOURNEY_OUTBOX_SCHEDULE: z.string().min(11).default('*/10 * * * * *'),
  /** Tries of one journey outcome before it is marked failed (visible in the status). */
  JOURNEY_OUTBOX_MAX_ATTEMPTS: positiveInt(10, 100),
  /** Key of the HMAC-SHA256 under which do-not-contact numbers are stored; a development default locally, required in Azure. */
  DNC_HASH_KEY: z.string().min(32, 'expected at least 32 characters (e.g. 32 random bytes, base64)').optional(),
});

/** Running in App Service / Azure Functions: the platform sets these on every instance. */
export function isRunningInAzure(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env['WEBSITE_SITE_NAME']) || Boolean(env['WEBSITE_INSTANCE_ID']);
}

/** Pairs of "connection string or identity-based" settings; one of each pair is required. */
const REQUIRED_CONNECTIONS = [
  ['ServiceBusConnection', 'ServiceBusConnection__fullyQualifiedNamespace', 'connection string'],
  ['AzureWebJobsStorage', 'AzureWebJobsStorage__tableServiceUri', 'connection string'],
] as const;

export type Settings = Readonly<z.infer<typeof settingsSchema>>;

/** Names of settings whose values are secrets: never echoed in errors or logs. */
const SECRET_SETTINGS = new Set([
  'ServiceBusConnection',
  'AzureWebJobsStorage',
  'CALL_EVENTS_SIGNING_SECRET',
  'DATAVERSE_LOCAL_TOKEN_KEY',
  'SegmentExportsStorage',
  'DNC_HASH_KEY',
]);

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
  if (input['DIALER_BACKEND'] === 'dynamics365' && input['DATAVERSE_URL'] === undefined) {
    lines.push('  - DATAVERSE_URL: required when DIALER_BACKEND is dynamics365');
  }
  const localDataverse = input['DATAVERSE_URL']?.startsWith('http:') === true;
  if (input['PRESENCE_SOURCE'] === 'simulator' && input['DIALER_BACKEND'] === 'dynamics365' && !localDataverse) {
    lines.push('  - PRESENCE_SOURCE: simulator presence only exists with the simulator back-end or the local Dataverse stand-in');
  }
  if (localDataverse && input['DATAVERSE_LOCAL_TOKEN_KEY'] === undefined) {
    lines.push('  - DATAVERSE_LOCAL_TOKEN_KEY: required when DATAVERSE_URL is the local stand-in (npm start sets both)');
  }
  // Fail closed in Azure: what has a convenient local default must be chosen there.
  if (isRunningInAzure(env)) {
    if (input['DIALER_BACKEND'] === undefined)
      lines.push('  - DIALER_BACKEND: required in Azure (simulator or dynamics365); the simulator is never chosen silently');
    if (input['CALL_EVENTS_SIGNING_SECRET'] === undefined) lines.push('  - CALL_EVENTS_SIGNING_SECRET: required in Azure, so call events are authenticated');
    if (input['DNC_HASH_KEY'] === undefined) lines.push('  - DNC_HASH_KEY: required in Azure, so do-not-contact numbers are keyed by a secret hash');
  }
  if (!result.success || lines.length > 0) throw new UserError('InvalidSettings', `invalid app settings:\n${lines.join('\n')}`);
  return Object.freeze(result.data);
}
