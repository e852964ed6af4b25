import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { describeEngagementStatus, type StatusDeps } from '../dispatch/engagementStatus.js';
import { toFieldIssues, UserError, type FieldIssue } from '../errors.js';
import { httpFunction, type HttpFunctionHandler } from '../httpApi/httpFunction.js';
import { pauseEngagement, resumeEngagement, type HoldTransition, type PacingState } from '../pacing/pacingState.js';
import { normalizePhone } from '../planning/normalizePhone.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { EngagementMetricsStore, MinuteMetrics } from '../store/dispatch/engagementMetricsStore.js';
import type { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
import { cancelFilterSchema, cancelQueuedDeliveries, type CancelDeps } from './cancelQueuedDeliveries.js';
import type { ConsoleAssets } from './consoleAssets.js';
import { queueShares, type EngagementSummary, type Overview } from './describeOverview.js';
import { DNC_IMPORT_MAX_ROWS, parseDoNotContactCsv, type DoNotContactEntry } from './parseDoNotContactCsv.js';
import { runWhatIf, scenarioEngagement, whatIfRequestSchema, type WhatIfFigures } from './runWhatIf.js';

/** What the read-only management functions use (overview, settings, metrics, what-if). */
export interface ManagementReadDeps {
  readonly catalog: EngagementCatalog;
  readonly status: StatusDeps;
  readonly metrics: Pick<EngagementMetricsStore, 'range'>;
  readonly clock: () => number;
}

/** What pause and resume use. */
export interface PauseDeps {
  readonly catalog: EngagementCatalog;
  readonly stateStore: Pick<PacingStateStore, 'load' | 'save'>;
  readonly clock: () => number;
}

/** What cancelling queued deliveries uses. */
export interface CancelQueuedDeps extends CancelDeps {
  readonly catalog: EngagementCatalog;
  readonly clock: () => number;
}

/** What the do-not-contact functions use. */
export interface DoNotContactDeps {
  readonly doNotContact: Pick<DoNotContactStore, 'add' | 'remove'>;
  /** Region for numbers in national format (the first engagement's defaultCountry, else US). */
  readonly defaultCountry: string;
}

/** Entries per add or remove request; larger lists go through the CSV import. */
const DNC_MAX_ENTRIES = 1_000;
/** The longest metrics range one request returns (24 hours of minutes). */
const METRICS_MAX_MINUTES = 24 * 60;

function engagementOf(catalog: EngagementCatalog, id: string | undefined): EngagementConfig {
  const engagement = catalog.engagements.get(id ?? '');
  if (engagement === undefined) throw new UserError('EngagementNotFound', `no engagement with id "${id ?? ''}"`);
  return engagement;
}

async function jsonBody<S extends z.ZodType>(request: { json(): Promise<unknown> }, schema: S, what: string): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    throw new UserError('InvalidRequest', `${what}: the body is not JSON`, [{ path: '(root)', message: 'expected a JSON object' }]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError('InvalidRequest', `${what}: the body is invalid`, toFieldIssues(parsed.error));
  return parsed.data;
}

/** The rule thresholds each chart draws: abandonment %, average wait, agent failure %. */
export function chartThresholds(engagement: EngagementConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rule of engagement.rules) {
    if (rule.kind === 'abandonment-rate') out['abandonmentPercent'] = rule.threshold;
    if (rule.kind === 'average-wait-time') out['averageWaitSeconds'] = rule.threshold;
  }
  const policy = engagement.agentFailurePolicy;
  if (engagement.type === 'ai-led') out['failurePercent'] = policy?.action === 'stop' ? 0 : (policy?.failureRatePercent ?? 1);
  return out;
}

/** `GET /api/engagements`: every engagement's state and counts, and who wins each shared queue. */
export function engagementListHandler(deps: () => Promise<ManagementReadDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, status, clock }) => {
    const now = clock();
    const [statuses, stored] = await Promise.all([
      Promise.all([...catalog.engagements.values()].map((e) => describeEngagementStatus(status, e, now))),
      status.stateStore.load(),
    ]);
    const engagements: EngagementSummary[] = statuses.map(({ recentDecisions: _omitted, ...rest }) => ({
      ...rest,
      queue: catalog.engagements.get(rest.engagementId)?.routing.primaryQueue ?? '',
    }));
    const overview: Overview = {
      at: new Date(now).toISOString(),
      engagements,
      queues: queueShares(catalog, new Map(statuses.map((s) => [s.engagementId, s.state.status])), stored.state),
    };
    return { status: 200, jsonBody: overview };
  });
}

/** `GET /api/engagements/{engagementId}/settings`: the engagement as configured, with the thresholds the charts draw. */
export function engagementSettingsHandler(deps: () => Promise<ManagementReadDeps>): HttpFunctionHandler {
  return httpFunction(deps, ({ catalog }, request) => {
    const engagement = engagementOf(catalog, request.params['engagementId']);
    const queue = catalog.queues.get(engagement.routing.primaryQueue);
    return Promise.resolve({
      status: 200,
      jsonBody: {
        engagement,
        primaryQueue: queue === undefined ? null : { ...queue, representatives: queue.representatives?.length ?? null },
        thresholds: chartThresholds(engagement),
      },
    });
  });
}

const minutesSchema = z.coerce.number().int().min(1).max(METRICS_MAX_MINUTES).default(60);

/** `GET /api/engagements/{engagementId}/metrics?minutes=60`: per-minute metrics, oldest first, with the rule thresholds. */
export function engagementMetricsHandler(deps: () => Promise<ManagementReadDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, metrics, clock }, request) => {
    const engagement = engagementOf(catalog, request.params['engagementId']);
    const minutes = minutesSchema.safeParse(request.query.get('minutes') ?? undefined);
    if (!minutes.success) throw new UserError('InvalidRequest', 'minutes must be a whole number of minutes', toFieldIssues(minutes.error, 'minutes'));
    const to = clock();
    const from = to - minutes.data * 60_000;
    const points: MinuteMetrics[] = await metrics.range(engagement.id, from, to + 60_000);
    return {
      status: 200,
      jsonBody: {
        engagementId: engagement.id,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        points,
        thresholds: chartThresholds(engagement),
      },
    };
  });
}

/** `POST /api/engagements/{engagementId}/what-if`: one or two scenarios through the simulator on a virtual clock. */
export function engagementWhatIfHandler(deps: () => Promise<ManagementReadDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, clock }, request) => {
    const engagement = engagementOf(catalog, request.params['engagementId']);
    const body = await jsonBody(request, whatIfRequestSchema, 'a what-if');
    // Every scenario is validated before any runs: a bad second scenario costs no simulation.
    const engagements = body.scenarios.map((s, i) => scenarioEngagement(engagement, s, i));
    const start = clock();
    const results: WhatIfFigures[] = [];
    for (const [i, s] of body.scenarios.entries()) results.push(await runWhatIf(engagements[i] as EngagementConfig, s.label, s.profile, start));
    return { status: 200, jsonBody: { engagementId: engagement.id, scenarios: results } };
  });
}

const reasonSchema = z.strictObject({ reason: z.string().trim().min(1).max(500) });

async function transitionHold(stateStore: PauseDeps['stateStore'], change: (state: PacingState) => HoldTransition): Promise<HoldTransition> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { state, etag } = await stateStore.load();
    const result = change(state);
    if (!result.changed || (await stateStore.save(result.state, etag))) return result;
  }
  throw new UserError('Throttled', 'pacing state kept changing; try again');
}

/** `POST /api/engagements/{engagementId}/pause` (admin): no new calls until resumed; queued deliveries stay. */
export function engagementPauseHandler(deps: () => Promise<PauseDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, stateStore, clock }, request, context) => {
    const engagement = engagementOf(catalog, request.params['engagementId']);
    const { reason } = await jsonBody(request, reasonSchema, 'a pause');
    const result = await transitionHold(stateStore, (state) => pauseEngagement(state, engagement.id, reason, new Date(clock())));
    if (!result.changed && result.why === 'held') {
      throw new UserError('Conflict', `engagement ${engagement.id} is already ${result.hold.status}: ${result.hold.reason}`);
    }
    if (result.changed) context.log(`engagement ${engagement.id} paused by an operator: ${reason}`);
    return { status: 200, jsonBody: { engagementId: engagement.id, paused: true, changed: result.changed } };
  });
}

/** `POST /api/engagements/{engagementId}/resume` (admin): lifts an operator's pause (a stop or rule pause needs restart). */
export function engagementResumeHandler(deps: () => Promise<PauseDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ catalog, stateStore }, request, context) => {
    const engagement = engagementOf(catalog, request.params['engagementId']);
    const { reason } = await jsonBody(request, reasonSchema, 'a resume');
    const result = await transitionHold(stateStore, (state) => resumeEngagement(state, engagement.id));
    if (!result.changed && result.why === 'held') {
      throw new UserError(
        'Conflict',
        `engagement ${engagement.id} is ${result.hold.status} by a rule or the failure policy (${result.hold.reason}): restart it instead`,
      );
    }
    if (result.changed) context.log(`engagement ${engagement.id} resumed by an operator: ${reason}`);
    return { status: 200, jsonBody: { engagementId: engagement.id, paused: false, changed: result.changed } };
  });
}

/** `POST /api/engagements/{engagementId}/cancel-queued` (admin): cancels queued deliveries, all or by filter. */
export function engagementCancelQueuedHandler(deps: () => Promise<CancelQueuedDeps>): HttpFunctionHandler {
  return httpFunction(deps, async (d, request, context) => {
    const engagement = engagementOf(d.catalog, request.params['engagementId']);
    const filter = await jsonBody(request, cancelFilterSchema, 'a cancel');
    const report = await cancelQueuedDeliveries(d, engagement, filter, d.clock());
    context.log(
      `engagement ${engagement.id}: ${report.cancelled} queued deliveries cancelled by an operator (${report.matched} matched of ${report.scanned} scanned)`,
    );
    return { status: 200, jsonBody: { engagementId: engagement.id, ...report } };
  });
}

const dncEntrySchema = z.union([
  z.strictObject({ phone: z.string().min(3).max(40), reason: z.string().max(200).optional() }),
  z.strictObject({ contactId: z.string().min(1).max(200), reason: z.string().max(200).optional() }),
]);
const dncBodySchema = z.strictObject({
  entries: z.array(dncEntrySchema).min(1).max(DNC_MAX_ENTRIES),
  /** Region for numbers given in national format; default the deployment's. */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
});

/** Normalises every number first; any bad entry rejects the whole request (nothing stored). */
function normalizeEntries(entries: readonly DoNotContactEntry[], country: string): DoNotContactEntry[] {
  const issues: FieldIssue[] = [];
  const out = entries.map((entry, i) => {
    if (!('phone' in entry)) return entry;
    const checked = normalizePhone(entry.phone, country);
    if (!checked.ok) {
      issues.push({ path: `entries[${i}].phone`, message: `${checked.reason} (default country ${country})` });
      return entry;
    }
    return { ...entry, phone: checked.e164 };
  });
  if (issues.length > 0) throw new UserError('InvalidRequest', 'some do-not-contact entries are invalid; nothing was changed', issues);
  return out;
}

const keyOf = (e: DoNotContactEntry) => ('phone' in e ? { phone: e.phone } : { contactId: e.contactId });

/** `POST /api/do-not-contact` (admin): adds numbers or contact ids to the do-not-contact list. */
export function doNotContactAddHandler(deps: () => Promise<DoNotContactDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ doNotContact, defaultCountry }, request, context) => {
    const body = await jsonBody(request, dncBodySchema, 'a do-not-contact addition');
    const entries = normalizeEntries(body.entries, body.defaultCountry ?? defaultCountry);
    for (const e of entries) await doNotContact.add(keyOf(e), e.reason ?? 'added by an operator', 'management-api');
    context.log(`do-not-contact: ${entries.length} entries added by an operator`);
    return { status: 200, jsonBody: { added: entries.length } };
  });
}

/** `POST /api/do-not-contact/remove` (admin): removes numbers or contact ids from the list. */
export function doNotContactRemoveHandler(deps: () => Promise<DoNotContactDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ doNotContact, defaultCountry }, request, context) => {
    const body = await jsonBody(request, dncBodySchema, 'a do-not-contact removal');
    const entries = normalizeEntries(body.entries, body.defaultCountry ?? defaultCountry);
    for (const e of entries) await doNotContact.remove(keyOf(e));
    context.log(`do-not-contact: ${entries.length} entries removed by an operator`);
    return { status: 200, jsonBody: { removed: entries.length } };
  });
}

/** `POST /api/do-not-contact/import?defaultCountry=GB` (admin, `text/csv`): adds every row, or none if one is bad. */
export function doNotContactImportHandler(deps: () => Promise<DoNotContactDeps>): HttpFunctionHandler {
  return httpFunction(deps, async ({ doNotContact, defaultCountry }, request, context) => {
    const countryParam = request.query.get('defaultCountry');
    if (countryParam !== null && !/^[A-Z]{2}$/.test(countryParam)) {
      throw new UserError('InvalidRequest', 'defaultCountry must be a two-letter region code', [{ path: 'defaultCountry', message: 'expected e.g. US, GB' }]);
    }
    const text = await request.text();
    const { entries, issues } = parseDoNotContactCsv(text, countryParam ?? defaultCountry);
    if (entries.length + issues.length > DNC_IMPORT_MAX_ROWS) {
      throw new UserError('PayloadTooLarge', `a do-not-contact import holds at most ${DNC_IMPORT_MAX_ROWS} rows`);
    }
    if (issues.length > 0) throw new UserError('InvalidRequest', 'some rows are invalid; nothing was imported', issues.slice(0, 100));
    if (entries.length === 0) throw new UserError('InvalidRequest', 'the file has no rows', [{ path: '(root)', message: 'expected at least one row' }]);
    for (const e of entries) await doNotContact.add(keyOf(e), e.reason ?? 'imported by an operator', 'management-api-import');
    context.log(`do-not-contact: ${entries.length} entries imported by an operator`);
    return { status: 200, jsonBody: { imported: entries.length } };
  });
}

/** `GET /api/console/{*path}`: the operator console's static files (anonymous: the page holds no data; its API calls carry keys). */
export function consoleHandler(deps: () => Promise<{ readonly assets: ConsoleAssets }>): HttpFunctionHandler {
  return httpFunction(deps, async ({ assets }, request): Promise<HttpResponseInit> => {
    const path = request.params['path'] ?? '';
    // The page's relative links need the trailing slash.
    if (path === '' && !new URL(request.url).pathname.endsWith('/')) {
      return { status: 301, headers: { location: `${new URL(request.url).pathname}/` } };
    }
    const asset = assets.get(path);
    if (asset === undefined) return { status: 404, jsonBody: { error: 'NotFound', message: `no console file ${path}` } };
    const { body, contentType } = await asset;
    const headers: Record<string, string> = {
      'content-type': contentType,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    };
    return { status: 200, body, headers };
  });
}
