import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * The engagement configuration file: queues (with their members and operating hours) and the
 * proactive engagements that dial into them. It mirrors Dynamics 365 Contact Center's
 * msdyn_proactive_engagement_config settings; every setting that does not apply to an engagement's
 * type or dial mode is rejected rather than ignored, so a file never says more than the product does.
 */

export const PHONE_TYPES = ['mobile', 'business', 'home'] as const;
export type PhoneType = (typeof PHONE_TYPES)[number];

export const DIAL_MODES = ['copilot', 'progressive', 'preview', 'predictive'] as const;
export type DialModeName = (typeof DIAL_MODES)[number];

export const PRIORITIES = ['normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** Numeric rank used for arbitration and as D365's `Priority` parameter (higher wins). */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { normal: 1, high: 2, critical: 3 };

/** Minimum available representatives for predictive dialing; below it the engagement dials progressively. */
export const PREDICTIVE_MIN_REPRESENTATIVES = 10;
export const MAX_CALLS_PER_REPRESENTATIVE = 5;
export const MAX_COPILOT_CONCURRENT_CALLS = 500;
export const MAX_FAILURE_RATE_PERCENT = 5;
export const DEFAULT_FAILURE_RATE_PERCENT = 1;

/** Result values a reattempt can be configured on (D365 names, plus the agent's "not right party" disposition). */
export const REATTEMPT_RESULTS = ['NoAnswer', 'Busy', 'CallFailed', 'AnsweringMachine', 'NotRightParty'] as const;
export type ReattemptResult = (typeof REATTEMPT_RESULTS)[number];

const timeOfDay = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected a time of day "HH:mm" (00:00-24:00)');

/** A daily local-time range; `end` before `start` crosses midnight ("21:00"-"09:00"). */
export const localTimeRangeSchema = z
  .strictObject({ start: timeOfDay, end: timeOfDay })
  .refine((r) => r.start !== r.end, { message: 'start and end must differ' });
export type LocalTimeRange = z.infer<typeof localTimeRangeSchema>;

const zoneValidity = new Map<string, boolean>();

/**
 * Whether luxon (ICU) knows the IANA zone. Memoised: luxon builds an Intl formatter per check (about
 * 0.1 ms), and intake checks a zone per contact, a few hundred distinct ones per 100k-member page.
 */
export function isKnownZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size < 10_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

export const ianaZoneSchema = z.string().refine(isKnownZone, { message: 'expected an IANA time zone such as "Europe/Paris"' });

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const weeklyHoursSchema = z.strictObject({
  timeZone: ianaZoneSchema,
  /** Days not listed are closed. Ranges may not cross midnight here: split them across two days. */
  days: z.partialRecord(
    z.enum(WEEKDAYS),
    z.array(
      localTimeRangeSchema.refine((r) => r.start < r.end, {
        message: 'operating hours may not cross midnight; split the range across two days',
      }),
    ),
  ),
});
export type WeeklyHours = z.infer<typeof weeklyHoursSchema>;

const representativeSchema = z.strictObject({
  /** Entra object id: the key Microsoft Graph presence is read by. */
  userId: z.uuid(),
  displayName: z.string().min(1).optional(),
});

export const queueSchema = z
  .strictObject({
    name: z.string().min(1).max(100),
    operatingHours: weeklyHoursSchema,
    /** Members listed here, or read from an Entra group through Microsoft Graph, not both. */
    representatives: z.array(representativeSchema).optional(),
    entraGroupId: z.uuid().optional(),
    skills: z.array(z.string().min(1)).default([]),
  })
  .superRefine((q, ctx) => {
    if ((q.representatives === undefined) === (q.entraGroupId === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['representatives'],
        message: 'give either "representatives" or "entraGroupId" (exactly one)',
      });
    }
  });
export type QueueConfig = z.infer<typeof queueSchema>;

const dialModeSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('copilot'),
    maxConcurrentCalls: z.int().min(1).max(MAX_COPILOT_CONCURRENT_CALLS),
    maxCallsPerRepresentative: z.int().min(1).max(MAX_CALLS_PER_REPRESENTATIVE).default(1),
  }),
  z.strictObject({
    mode: z.literal('progressive'),
    maxCallsPerRepresentative: z.int().min(1).max(MAX_CALLS_PER_REPRESENTATIVE).default(1),
  }),
  z.strictObject({
    mode: z.literal('preview'),
    /** Automatic start after a countdown, or the representative starts the call. */
    start: z.enum(['automatic', 'manual']).default('automatic'),
    countdownSeconds: z.int().min(0).max(300).default(15),
  }),
  z.strictObject({ mode: z.literal('predictive') }),
]);
export type DialMode = z.infer<typeof dialModeSchema>;

const callOrderSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('earliest-scheduled') }),
  z.strictObject({ kind: z.literal('lifo') }),
  z.strictObject({ kind: z.literal('fifo') }),
  z.strictObject({
    kind: z.literal('custom-priority'),
    /** Contact attribute holding the number; a missing or non-numeric value orders the contact FIFO after the ranked ones. */
    attribute: z.string().min(1),
    direction: z.enum(['asc', 'desc']),
  }),
]);
export type CallOrder = z.infer<typeof callOrderSchema>;

export const RULE_KINDS = ['abandonment-rate', 'average-wait-time', 'escalation-count', 'open-concurrent-escalations', 'percentage-of-queue'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const ruleSchema = z.strictObject({
  kind: z.enum(RULE_KINDS),
  /** Percent for rates and share of queue, seconds for wait time, a count for escalations. */
  threshold: z.number().positive(),
  /** "In the last" window, up to 30 days: outcomes are counted in hourly aggregates kept that long. */
  windowMinutes: z
    .int()
    .min(1, 'expected a window of at least 1 minute')
    .max(60 * 24 * 30, 'expected a window of at most 43200 minutes (30 days): outcomes are aggregated for 30 days'),
  /** "Decrease concurrent calls by" percent; 100 pauses the engagement until the rule clears. */
  decreaseByPercent: z.number().min(1).max(100),
});
export type PacingRule = z.infer<typeof ruleSchema>;

const reattemptSchema = z.strictObject({
  on: z.array(z.enum(REATTEMPT_RESULTS)).min(1),
  /** Attempts in total, the first call included. */
  maxAttempts: z.int().min(2).max(10),
  waitMinutes: z
    .int()
    .min(1)
    .max(60 * 24 * 7),
  relativePriority: z.enum(['same', 'higher', 'lower']).default('same'),
});
export type ReattemptPolicy = z.infer<typeof reattemptSchema>;

const failurePolicySchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('stop') }),
  z.strictObject({
    action: z.literal('continue-until'),
    failureRatePercent: z.number().min(0.1).max(MAX_FAILURE_RATE_PERCENT).default(DEFAULT_FAILURE_RATE_PERCENT),
  }),
]);
export type FailurePolicy = z.infer<typeof failurePolicySchema>;

/** Power Platform clouds, as `@microsoft/agents-copilotstudio-client` names them (its `PowerPlatformCloud`). */
export const POWER_PLATFORM_CLOUDS = [
  'Prod',
  'FirstRelease',
  'Gov',
  'GovFR',
  'High',
  'DoD',
  'Mooncake',
  'Ex',
  'Rx',
  'Preprod',
  'Test',
  'Dev',
  'Exp',
  'Prv',
  'Local',
] as const;
export const DEFAULT_COPILOT_STUDIO_TURN_TIMEOUT_SECONDS = 20;

/**
 * Who runs the conversation of the agent leg: the built-in flow (keyword state machine), or a Copilot
 * Studio agent the customer's turns are relayed to. Only names and ids here; credentials are app
 * settings (`COPILOT_STUDIO_*`), never in the engagement file.
 */
const agentEngineSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('builtin') }),
  z
    .strictObject({
      kind: z.literal('copilot-studio'),
      /** The agent's schema name (Copilot Studio: Settings > Advanced > Metadata), e.g. "cr6e4_outboundRenewals". */
      schemaName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'expected the agent schema name: letters, digits, "_", "." or "-"'),
      /** Power Platform environment id; without it (and without directConnectUrl) the app setting COPILOT_STUDIO_DIRECT_CONNECT_URL is used. */
      environmentId: z.uuid('expected a Power Platform environment id (GUID)').optional(),
      cloud: z.enum(POWER_PLATFORM_CLOUDS).default('Prod'),
      agentType: z.enum(['Published', 'Prebuilt']).default('Published'),
      /** The agent's direct-connect URL (Copilot Studio: Channels > Web app / native app); overrides environment and schema name for routing. */
      directConnectUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
      /** Seconds one turn may take (the agent's whole answer); longer is a BotFailed. */
      turnTimeoutSeconds: z.int().min(2).max(120).default(DEFAULT_COPILOT_STUDIO_TURN_TIMEOUT_SECONDS),
    })
    .refine((e) => e.environmentId === undefined || e.directConnectUrl === undefined, {
      path: ['directConnectUrl'],
      message: 'give environmentId or directConnectUrl, not both',
    }),
]);
export type AgentEngineConfig = z.infer<typeof agentEngineSchema>;
export type CopilotStudioEngineConfig = Extract<AgentEngineConfig, { kind: 'copilot-studio' }>;

const agentLegSchema = z.strictObject({
  /** What the call is about, said by the agent after the right-party check. */
  purpose: z.string().min(1).max(500),
  voicemail: z.discriminatedUnion('action', [
    z.strictObject({ action: z.literal('leave-message'), message: z.string().min(1).max(1000) }),
    z.strictObject({ action: z.literal('end') }),
  ]),
  /** Seconds the agent leg may take before it counts as a BotFailed outcome. */
  timeoutSeconds: z.int().min(10).max(1800).default(300),
  /** Who runs the conversation: the built-in flow (default, and the fallback) or a Copilot Studio agent. */
  engine: agentEngineSchema.default({ kind: 'builtin' }),
});
export type AgentLegConfig = z.infer<typeof agentLegSchema>;

const timeZonePolicySchema = z.enum([
  /** The contact's own zone; UTC when missing (D365's behaviour). */
  'contact-else-utc',
  /** The contact's own zone; when missing, inferred from the phone number (flagged timezoneInferred), else UTC. */
  'contact-else-inferred',
  /** UTC for every contact. */
  'utc',
]);
export type TimeZonePolicy = z.infer<typeof timeZonePolicySchema>;

/** Field-map targets: the contact fields intake understands (dotted for phones), plus a journey event's ids. */
export const FIELD_MAP_TARGETS = [
  'eventId',
  'journeyId',
  'contactId',
  'firstName',
  'lastName',
  'phones.mobile',
  'phones.business',
  'phones.home',
  'email',
  'timeZone',
  'locale',
  'attributes',
] as const;
export type FieldMapTarget = (typeof FIELD_MAP_TARGETS)[number];

/** A source path in an incoming record (`mobilephone`, `InputParameters.msdynmkt_mobilephone`), or several tried in order. */
const sourcePathSchema = z
  .string()
  .regex(/^[A-Za-z_@$][\w@$-]*(?:\.[A-Za-z_@$][\w@$-]*)*$/, 'expected a field name or dotted path such as "InputParameters.msdynmkt_profileid"');

/**
 * The Customer Insights side of an engagement: how its records map onto contacts, where its segment
 * exports land in Blob Storage, and the journey custom trigger its outcomes fire.
 */
export const customerInsightsSchema = z.strictObject({
  /** Per target, the source path(s) to read, tried in order before the defaults (see src/intake/fieldMap.ts). */
  fieldMap: z.partialRecord(z.enum(FIELD_MAP_TARGETS), z.union([sourcePathSchema, z.array(sourcePathSchema).min(1).max(10)])).default({}),
  /** Segment export files under this container and path prefix are this engagement's. */
  exports: z
    .strictObject({
      container: z.string().regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'expected a blob container name (3-63 lowercase letters, digits, "-")'),
      prefix: z.string().max(1024).default(''),
    })
    .optional(),
  /** The journey custom trigger fired when a delivery ends: a Dataverse custom API named `msdynmkt_*`. */
  journeyTrigger: z
    .strictObject({
      name: z.string().regex(/^msdynmkt_[A-Za-z0-9_]{1,90}$/, 'expected the custom trigger\'s unique name, starting with "msdynmkt_"'),
      /** Journey trigger attributes of the delivery to send back as they came (the trigger must define each). */
      echoAttributes: z
        .array(z.string().regex(/^[A-Za-z0-9_]{1,90}$/))
        .max(20)
        .default([]),
    })
    .optional(),
});
export type CustomerInsightsConfig = z.infer<typeof customerInsightsSchema>;

export const engagementSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'expected 1-63 letters, digits, "-" or "_"'),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    /** The msdyn_proactive_engagement_config id in Dataverse (needed by the dynamics365 dialer). */
    dynamicsConfigId: z.uuid().optional(),
    workstream: z.string().min(1),
    channel: z.literal('voice'),
    routing: z.strictObject({
      primaryQueue: z.string().min(1),
      fallbackQueue: z.string().min(1).optional(),
      skills: z.array(z.string().min(1)).default([]),
    }),
    type: z.enum(['ai-led', 'representative-led']),
    dialMode: dialModeSchema,
    priority: z.enum(PRIORITIES).default('normal'),
    callOrder: callOrderSchema.default({ kind: 'fifo' }),
    operatingHours: z.strictObject({ allowOutsideQueueHours: z.boolean() }).default({ allowOutsideQueueHours: false }),
    /** AI-led only: what happens when the AI agent fails during a call. */
    agentFailurePolicy: failurePolicySchema.optional(),
    agentLeg: agentLegSchema.optional(),
    rules: z.array(ruleSchema).default([]),
    reattempts: reattemptSchema.optional(),
    frequencyLimits: z
      .strictObject({
        perDay: z.int().min(1).max(100).optional(),
        perWeek: z.int().min(1).max(500).optional(),
      })
      .default({}),
    /** Phone types to use, in the order they are tried. */
    phoneOrder: z.array(z.enum(PHONE_TYPES)).min(1).default(['mobile', 'home', 'business']),
    /** Contact-local times not to call, per phone type; required for every type in phoneOrder. */
    quietHours: z.partialRecord(z.enum(PHONE_TYPES), z.array(localTimeRangeSchema)).default({}),
    /** Contact-local hours when calls are lawful at all (US TSR / FCC: 08:00-21:00). */
    legalHours: localTimeRangeSchema
      .refine((r) => r.start < r.end, { message: 'legal hours may not cross midnight' })
      .default({ start: '08:00', end: '21:00' }),
    timeZonePolicy: timeZonePolicySchema.default('contact-else-utc'),
    /** ISO 3166 region used to read national-format phone numbers. */
    defaultCountry: z
      .string()
      .regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "US"')
      .default('US'),
    /** Paused engagements accept intake but place no calls. */
    paused: z.boolean().default(false),
    /** Optional: field map, segment exports from Blob Storage, and the journey trigger outcomes fire. */
    customerInsights: customerInsightsSchema.optional(),
  })
  .superRefine(checkModeConstraints);
export type EngagementConfig = z.infer<typeof engagementSchema>;

/** Which rules apply to which engagement type and dial mode (Microsoft's configure-proactive-engagement page). */
const RULES_BY_TYPE: Readonly<Record<EngagementConfig['type'], Readonly<Record<RuleKind, readonly DialModeName[]>>>> = {
  'ai-led': {
    'abandonment-rate': ['copilot', 'progressive', 'predictive'],
    'average-wait-time': ['copilot', 'progressive', 'predictive'],
    'escalation-count': ['copilot', 'progressive', 'predictive'],
    'open-concurrent-escalations': ['copilot'],
    'percentage-of-queue': ['predictive'],
  },
  'representative-led': {
    'abandonment-rate': ['progressive', 'preview', 'predictive'],
    'average-wait-time': [],
    'escalation-count': [],
    'open-concurrent-escalations': [],
    'percentage-of-queue': ['predictive'],
  },
};

function checkModeConstraints(e: EngagementConfig, ctx: z.RefinementCtx): void {
  const mode = e.dialMode.mode;
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (mode === 'copilot' && e.type !== 'ai-led') issue(['dialMode', 'mode'], 'copilot dial mode is for AI-led engagements only');
  if (mode === 'preview' && e.type !== 'representative-led') {
    issue(['dialMode', 'mode'], 'preview dial mode is for representative-led engagements only');
  }
  if (e.operatingHours.allowOutsideQueueHours && mode !== 'copilot' && mode !== 'progressive') {
    issue(['operatingHours', 'allowOutsideQueueHours'], `calling outside queue hours applies to copilot and progressive modes, not ${mode}`);
  }
  if (e.type === 'ai-led') {
    if (e.agentLeg === undefined) issue(['agentLeg'], 'AI-led engagements need agentLeg (purpose and voicemail behaviour)');
  } else {
    if (e.agentFailurePolicy !== undefined) {
      issue(['agentFailurePolicy'], 'the AI agent failure policy applies to AI-led engagements only');
    }
    if (e.agentLeg !== undefined) issue(['agentLeg'], 'agentLeg applies to AI-led engagements only');
  }
  e.rules.forEach((rule, index) => {
    const modes = RULES_BY_TYPE[e.type][rule.kind];
    if (!modes.includes(mode)) {
      issue(['rules', index, 'kind'], `rule ${rule.kind} does not apply to ${e.type} engagements in ${mode} mode`);
    }
    if ((rule.kind === 'abandonment-rate' || rule.kind === 'percentage-of-queue') && rule.threshold > 100) {
      issue(['rules', index, 'threshold'], 'a percentage threshold must be at most 100');
    }
  });
  const seen = new Set<RuleKind>();
  e.rules.forEach((rule, index) => {
    if (seen.has(rule.kind)) issue(['rules', index, 'kind'], `rule ${rule.kind} is given twice`);
    seen.add(rule.kind);
  });
  if (new Set(e.phoneOrder).size !== e.phoneOrder.length) issue(['phoneOrder'], 'a phone type is listed twice');
  for (const type of e.phoneOrder) {
    if (e.quietHours[type] === undefined) {
      issue(['quietHours', type], `quiet hours must be set for every phone type in phoneOrder (use [] for none)`);
    }
  }
  for (const type of Object.keys(e.quietHours) as PhoneType[]) {
    if (!e.phoneOrder.includes(type)) issue(['quietHours', type], `phone type ${type} is not in phoneOrder`);
  }
  if (e.routing.fallbackQueue !== undefined && e.routing.fallbackQueue === e.routing.primaryQueue) {
    issue(['routing', 'fallbackQueue'], 'the fallback queue must differ from the primary queue');
  }
}

export const engagementFileSchema = z
  .strictObject({
    queues: z.array(queueSchema).min(1),
    engagements: z.array(engagementSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const queues = new Set<string>();
    file.queues.forEach((q, i) => {
      if (queues.has(q.name)) ctx.addIssue({ code: 'custom', path: ['queues', i, 'name'], message: `queue ${q.name} is declared twice` });
      queues.add(q.name);
    });
    const ids = new Set<string>();
    file.engagements.forEach((e, i) => {
      if (ids.has(e.id)) ctx.addIssue({ code: 'custom', path: ['engagements', i, 'id'], message: `engagement id ${e.id} is used twice` });
      ids.add(e.id);
      for (const key of ['primaryQueue', 'fallbackQueue'] as const) {
        const name = e.routing[key];
        if (name !== undefined && !queues.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['engagements', i, 'routing', key], message: `queue ${name} is not declared in "queues"` });
        }
      }
    });
  });
export type EngagementFile = z.infer<typeof engagementFileSchema>;
