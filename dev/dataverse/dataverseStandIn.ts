/**
 * A local Dataverse stand-in: an HTTP server speaking the Dataverse Web API shapes the app uses, so
 * the dynamics365 back-end runs end to end on this machine (`npm start` with DIALER_BACKEND=dynamics365
 * and no DATAVERSE_URL). It is development tooling: the product never imports it.
 *
 * Speaks: the CCaaS_* actions (Contacts / ProactiveDeliveries as serialised JSON strings), the
 * CCaaS_GetDeliveryTasks function, `$filter`/`$select`/paged queries of msdyn_proactive_deliveries,
 * the msdyn_proactive_engagement_config read, journey custom-trigger actions (`msdynmkt_*`, recorded),
 * and OData error bodies. Checks the bearer token (HS256, issuer, expiry, audience = its own URL).
 * Answers 429 with Retry-After at a configurable rate, and 5xx bursts on request. Every delivery it
 * accepts is handed to a telephony (the app's telephony simulator, or a small seeded model), whose
 * outcomes appear in the delivery rows and tasks.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const API_PATH = '/api/data/v9.2';
/** The only issuer the stand-in accepts (the app's LocalStandInCredential signs with it). */
export const STAND_IN_TOKEN_ISSUER = 'local-dataverse-stand-in';

/** A msdyn_proactive_engagement_config as the stand-in serves it (the columns the app compares). */
export interface StandInEngagementConfig {
  readonly msdyn_proactive_engagement_configid: string;
  readonly msdyn_name: string;
  /** Copilot, Progressive, Preview or Predictive. */
  readonly msdyn_dial_mode: string;
  readonly msdyn_primary_queue: string;
  readonly msdyn_max_calls_per_representative: number | null;
  /** The app's engagement id this config stands for (stand-in only: lets the telephony route calls). */
  readonly engagementId: string;
}

/** One call the stand-in asks its telephony to place. */
export interface PlacedCall {
  /** msdyn_delivery_id of the row. */
  readonly deliveryRowId: string;
  readonly engagementId: string;
  readonly uniqueIdentifier: string;
  readonly phone: string;
}

/** What the telephony reports when a call ends. */
export interface CallEnd {
  readonly result: string;
  readonly at: string;
  readonly sipCode?: number;
}

/** Places calls and reports how they ended; `report` may be called any time after `place`. */
export interface StandInTelephony {
  place(call: PlacedCall, report: (end: CallEnd) => void): void;
  close?(): void;
}

export interface ThrottlePolicy {
  /** Every Nth Dataverse request starts a throttle window (0 turns it off). */
  readonly everyNth: number;
  /** Retry-After of that 429, and how long every request is refused after it. */
  readonly retryAfterSeconds: number;
}

export interface DataverseStandInOptions {
  readonly port?: number;
  /** Signing key shared with the app (DATAVERSE_LOCAL_TOKEN_KEY). */
  readonly tokenKey: string;
  readonly configs: readonly StandInEngagementConfig[];
  readonly telephony: StandInTelephony;
  readonly throttle?: ThrottlePolicy;
  /** The clock for token expiry and throttle windows; Date.now by default. */
  readonly now?: () => number;
  /**
   * Ids of the rows and delivery tasks it creates; randomUUID by default. A test passes a counter so
   * that a seeded telephony, which draws each call's fate from its row id, gives the same calls every run.
   */
  readonly newId?: () => string;
  readonly log?: (line: string) => void;
}

export interface DeliveryRow {
  msdyn_proactive_deliveryid: string;
  msdyn_delivery_id: string;
  msdyn_tracking_id: string | null;
  msdyn_batch_id: string | null;
  msdyn_contact_id: string;
  msdyn_status: 'Pending' | 'InProcess' | 'Complete' | 'Expired' | 'Cancelled' | 'Error';
  msdyn_result: string | null;
  msdyn_result_date: string | null;
  msdyn_sip_diagnostics: string | null;
  msdyn_disposition_codes: string | null;
  msdyn_seq_no: number;
  readonly configId: string;
  readonly taskId: string | null;
}

/** A `msdynmkt_*` custom-trigger call the stand-in received (for the Customer Insights side). */
export interface CustomTriggerCall {
  readonly action: string;
  readonly body: unknown;
  readonly at: string;
}

export interface StandInStats {
  /** Dataverse requests by answer: ok, 429, 5xx, 4xx. */
  readonly requests: { ok: number; throttled: number; faults: number; refused: number };
  /** Create calls accepted, single and bulk. */
  readonly creates: { single: number; bulk: number };
  readonly queries: number;
  readonly taskReads: number;
}

export interface DataverseStandIn {
  /** http://127.0.0.1:<port>: DATAVERSE_URL and the token audience. */
  readonly url: string;
  readonly port: number;
  readonly rows: readonly DeliveryRow[];
  readonly customTriggerCalls: readonly CustomTriggerCall[];
  readonly stats: StandInStats;
  /** The next `count` Dataverse requests answer `status` (a 5xx burst). */
  failNext(count: number, status?: number): void;
  setThrottle(policy: ThrottlePolicy | undefined): void;
  stop(): Promise<void>;
}

const STATUS_CLOSED = new Set(['Complete', 'Expired', 'Cancelled', 'Error']);
const DEFAULT_PAGE_SIZE = 5_000;

export async function startDataverseStandIn(options: DataverseStandInOptions): Promise<DataverseStandIn> {
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const log = options.log ?? (() => undefined);
  const rows: DeliveryRow[] = [];
  const customTriggerCalls: CustomTriggerCall[] = [];
  const stats = { requests: { ok: 0, throttled: 0, faults: 0, refused: 0 }, creates: { single: 0, bulk: 0 }, queries: 0, taskReads: 0 };
  const configs = new Map(options.configs.map((c) => [c.msdyn_proactive_engagement_configid.toLowerCase(), c]));
  let throttle = options.throttle;
  let throttledUntil = 0;
  let requestCount = 0;
  let faults: { count: number; status: number } = { count: 0, status: 503 };
  let url = '';

  const place = (row: DeliveryRow, phone: string) => {
    const config = configs.get(row.configId);
    row.msdyn_status = 'InProcess';
    options.telephony.place(
      { deliveryRowId: row.msdyn_delivery_id, engagementId: config?.engagementId ?? '', uniqueIdentifier: row.msdyn_contact_id, phone },
      (end) => {
        if (STATUS_CLOSED.has(row.msdyn_status)) return;
        // D365 folds busy into NoAnswer and keeps the SIP code in the diagnostics.
        const result = end.result === 'Busy' ? 'NoAnswer' : end.result;
        row.msdyn_status = ['Error', 'Expired', 'Cancelled'].includes(result) ? (result as DeliveryRow['msdyn_status']) : 'Complete';
        row.msdyn_result = result;
        row.msdyn_result_date = end.at;
        row.msdyn_sip_diagnostics = end.sipCode === undefined ? (end.result === 'Busy' ? 'SIP/2.0 486 Busy Here' : null) : `SIP/2.0 ${end.sipCode}`;
      },
    );
  };

  const createRow = (fields: { tracking: string | null; batch: string | null; contactId: string; configId: string; taskId: string | null }): DeliveryRow => {
    const row: DeliveryRow = {
      msdyn_proactive_deliveryid: newId(),
      msdyn_delivery_id: newId(),
      msdyn_tracking_id: fields.tracking,
      msdyn_batch_id: fields.batch,
      msdyn_contact_id: fields.contactId,
      msdyn_status: 'Pending',
      msdyn_result: null,
      msdyn_result_date: null,
      msdyn_sip_diagnostics: null,
      msdyn_disposition_codes: null,
      msdyn_seq_no: rows.length + 1,
      configId: fields.configId.toLowerCase(),
      taskId: fields.taskId,
    };
    rows.push(row);
    return row;
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    const action = path.slice(API_PATH.length + 1);
    if (req.method === 'POST' && action === 'CCaaS_CreateProactiveDelivery') {
      const body = await readJson(req);
      const configId = stringField(body, 'ProactiveEngagementConfigId');
      const requestId = stringField(body, 'RequestId');
      const contacts = parseSerialised(body, 'Contacts');
      if (configId === undefined || !configs.has(configId.toLowerCase()))
        return odataError(res, 404, '0x80040217', `msdyn_proactive_engagement_config With Id = ${configId ?? '(none)'} Does Not Exist`);
      if (requestId === undefined || contacts === undefined || contacts.length === 0 || contacts.length > 5) {
        return odataError(res, 400, '0x80040203', 'RequestId and Contacts (a serialised JSON array of 1 to 5 contacts) are required');
      }
      const taskId = newId();
      for (const contact of contacts) {
        const row = createRow({ tracking: requestId, batch: null, contactId: text(contact['uniqueIdentifier']), configId, taskId });
        place(row, text(contact['mobilePhoneNumber'] ?? contact['businessPhoneNumber'] ?? contact['homePhoneNumber']));
      }
      stats.creates.single++;
      return json(res, 200, {
        '@odata.context': `${url}${API_PATH}/$metadata#Microsoft.Dynamics.CRM.CCaaS_CreateProactiveDeliveryResponse`,
        DeliveryTaskId: taskId,
      });
    }
    if (req.method === 'POST' && action === 'CCaaS_CreateProactiveDeliveryBulkV2') {
      const body = await readJson(req);
      const configId = stringField(body, 'ProactiveEngagementConfigId');
      const records = parseSerialised(body, 'ProactiveDeliveries');
      if (configId === undefined || !configs.has(configId.toLowerCase()))
        return odataError(res, 404, '0x80040217', `msdyn_proactive_engagement_config With Id = ${configId ?? '(none)'} Does Not Exist`);
      if (records === undefined) return odataError(res, 400, '0x80040203', 'ProactiveDeliveries must be a serialised JSON array');
      const missing = records.findIndex((r) => typeof r['mobilePhoneNumber'] !== 'string' || r['mobilePhoneNumber'] === '');
      if (missing >= 0) return odataError(res, 400, '0x80040203', `ProactiveDeliveries[${missing}].mobilePhoneNumber is required`);
      const batch = stringField(body, 'RequestId') ?? newId();
      for (const record of records) {
        const row = createRow({ tracking: null, batch, contactId: text(record['uniqueIdentifier']), configId, taskId: null });
        place(row, text(record['mobilePhoneNumber']));
      }
      stats.creates.bulk++;
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && action === 'CCaaS_CancelDeliveryTask') {
      const taskId = stringField(await readJson(req), 'DeliveryTaskId');
      const task = rows.filter((r) => r.taskId !== null && r.taskId === taskId);
      if (task.length === 0) return odataError(res, 404, '0x80040217', `Delivery task ${taskId ?? '(none)'} does not exist`);
      for (const row of task) {
        if (STATUS_CLOSED.has(row.msdyn_status)) continue;
        Object.assign(row, { msdyn_status: 'Cancelled', msdyn_result: 'Cancelled', msdyn_result_date: new Date(now()).toISOString() });
      }
      res.writeHead(204).end();
      return;
    }
    const taskRead = /^CCaaS_GetDeliveryTasks\(DeliveryTaskId=([0-9a-fA-F-]{36})\)$/.exec(action);
    if (req.method === 'GET' && taskRead !== null) {
      stats.taskReads++;
      const task = rows.filter((r) => r.taskId === taskRead[1]);
      if (task.length === 0) return odataError(res, 404, '0x80040217', `Delivery task ${taskRead[1]} does not exist`);
      return json(res, 200, { value: [toTask(task)] });
    }
    if (req.method === 'GET' && action === 'msdyn_proactive_deliveries') {
      stats.queries++;
      return queryDeliveries(req, res, query);
    }
    const configRead = /^msdyn_proactive_engagement_configs\(([0-9a-fA-F-]{36})\)$/.exec(action);
    if (req.method === 'GET' && configRead !== null) {
      const config = configs.get((configRead[1] ?? '').toLowerCase());
      if (config === undefined) return odataError(res, 404, '0x80040217', `msdyn_proactive_engagement_config With Id = ${configRead[1]} Does Not Exist`);
      const { engagementId: _engagementId, ...columns } = config;
      return json(res, 200, { '@odata.context': `${url}${API_PATH}/$metadata#msdyn_proactive_engagement_configs/$entity`, ...columns });
    }
    if (req.method === 'POST' && /^msdynmkt_[A-Za-z0-9_]+$/.test(action)) {
      const body = await readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return odataError(res, 400, '0x80040203', 'the request body must be a JSON object of the action parameters');
      customTriggerCalls.push({ action, body, at: new Date(now()).toISOString() });
      res.writeHead(204).end();
      return;
    }
    return odataError(res, 404, '0x80060888', `Resource not found for the segment '${action.split('(')[0] ?? action}'.`);
  };

  const queryDeliveries = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void => {
    const filter = parseFilter(query.get('$filter'));
    if (filter === 'unsupported')
      return odataError(
        res,
        400,
        '0x80060888',
        `the stand-in supports $filter of the form col eq 'v' or Microsoft.Dynamics.CRM.In(...): ${query.get('$filter') ?? ''}`,
      );
    const matched = filter === undefined ? rows : rows.filter((row) => filter.values.has(text((row as unknown as Record<string, unknown>)[filter.column])));
    const prefer = /odata\.maxpagesize=(\d+)/.exec(String(req.headers['prefer'] ?? ''));
    const pageSize = Math.min(prefer === null ? DEFAULT_PAGE_SIZE : Number(prefer[1]), DEFAULT_PAGE_SIZE);
    const skip = Number(/offset="(\d+)"/.exec(query.get('$skiptoken') ?? '')?.[1] ?? 0);
    const page = matched.slice(skip, skip + pageSize);
    const select = query
      .get('$select')
      ?.split(',')
      .filter((c) => c !== '');
    const value = page.map((row) => project(row, select));
    const body: Record<string, unknown> = { '@odata.context': `${url}${API_PATH}/$metadata#msdyn_proactive_deliveries`, value };
    if (skip + pageSize < matched.length) {
      const next = new URLSearchParams(query);
      next.set('$skiptoken', `<cookie pagenumber="${skip / pageSize + 2}" offset="${skip + pageSize}" />`);
      body['@odata.nextLink'] = `${url}${API_PATH}/msdyn_proactive_deliveries?${next.toString()}`;
    }
    res.setHeader('Preference-Applied', `odata.maxpagesize=${pageSize}`);
    json(res, 200, body);
  };

  const server: Server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://stand-in');
    const path = decodeURIComponent(parsed.pathname);
    if (path.startsWith('/_standin/')) {
      standInControl(req, res, path);
      return;
    }
    if (!path.startsWith(`${API_PATH}/`)) {
      odataError(res, 404, '0x80060888', 'Resource not found');
      return;
    }
    const refusal = checkToken(req.headers.authorization, options.tokenKey, url, now());
    if (refusal !== undefined) {
      stats.requests.refused++;
      odataError(res, 401, '0x80072560', refusal);
      return;
    }
    requestCount++;
    const at = now();
    if (faults.count > 0) {
      faults.count--;
      stats.requests.faults++;
      odataError(res, faults.status, '0x80040216', 'An unexpected error occurred (stand-in fault burst).');
      return;
    }
    if (throttle !== undefined && throttle.everyNth > 0 && (at < throttledUntil || requestCount % throttle.everyNth === 0)) {
      if (at >= throttledUntil) throttledUntil = at + throttle.retryAfterSeconds * 1000;
      stats.requests.throttled++;
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((throttledUntil - at) / 1000))));
      odataError(res, 429, '0x80072322', 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.');
      return;
    }
    routes(req, res, path, parsed.searchParams)
      .then(() => {
        if (res.statusCode < 400) stats.requests.ok++;
      })
      .catch((error: unknown) => {
        log(`stand-in error: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) odataError(res, 400, '0x80040203', error instanceof Error ? error.message : 'bad request');
      });
  });

  const standInControl = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    if (req.method === 'GET' && path === '/_standin/msdynmkt-calls') return json(res, 200, { value: customTriggerCalls });
    if (req.method === 'GET' && path === '/_standin/deliveries') return json(res, 200, { value: rows, stats });
    if (req.method === 'POST' && path === '/_standin/faults') {
      void readJson(req).then((body) => {
        const count = Number((body as { count?: unknown } | undefined)?.count ?? 5);
        const status = Number((body as { status?: unknown } | undefined)?.status ?? 503);
        faults = { count, status };
        json(res, 200, { faults });
      });
      return;
    }
    odataError(res, 404, '0x80060888', 'unknown stand-in control path');
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  log(`Dataverse stand-in on ${url} (${configs.size} engagement config(s))`);
  return {
    url,
    port,
    rows,
    customTriggerCalls,
    stats,
    failNext(count, status = 503) {
      faults = { count, status };
    },
    setThrottle(policy) {
      throttle = policy;
      throttledUntil = 0;
    },
    async stop() {
      options.telephony.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Why the token is refused, or undefined when it is good: HS256 with the shared key, our issuer, unexpired, audience = this org. */
export function checkToken(header: string | undefined, key: string, audience: string, nowMs: number): string | undefined {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (match === null) return 'Bearer token required';
  const [, head, payload, signature] = match as unknown as [string, string, string, string];
  const expected = createHmac('sha256', key).update(`${head}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the token signature is not valid';
  let claims: { aud?: unknown; iss?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return 'the token payload is not JSON';
  }
  if (claims.iss !== STAND_IN_TOKEN_ISSUER) return 'the token issuer is not trusted';
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return 'the token has expired';
  if (claims.aud !== audience) return `the token audience ${JSON.stringify(claims.aud)} is not this organization (${audience})`;
  return undefined;
}

function toTask(task: readonly DeliveryRow[]) {
  const first = task[0] as DeliveryRow;
  const last = task[task.length - 1] as DeliveryRow;
  const open = task.some((r) => !STATUS_CLOSED.has(r.msdyn_status));
  return {
    deliveryTaskId: first.taskId,
    requestId: first.msdyn_tracking_id,
    status: open ? 'InProcess' : last.msdyn_status,
    customerReached: task.some((r) => r.msdyn_result === 'LiveAnswer'),
    retryCount: 0,
    maxRetryCount: 0,
    callbackAttemptCount: 0,
    nextScheduledTime: null,
    lastAttemptedTime: last.msdyn_result_date,
    expirationDate: null,
    whenCreated: null,
    proactiveEngagementConfigId: first.configId,
    contactIds: task.map((r) => r.msdyn_contact_id),
    contactChainingStatus: { currentContactIdAttempted: last.msdyn_contact_id, isChainExhausted: !open, lastDeliveryResult: last.msdyn_result },
    deliveries: task.map((r) => ({ id: r.msdyn_delivery_id, status: r.msdyn_status, result: r.msdyn_result })),
  };
}

function parseFilter(filter: string | null): { column: string; values: Set<string> } | undefined | 'unsupported' {
  if (filter === null || filter.trim() === '') return undefined;
  const eq = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(filter);
  if (eq !== null) return { column: eq[1] ?? '', values: new Set([(eq[2] ?? '').replace(/''/g, "'")]) };
  const inFn = /^\s*Microsoft\.Dynamics\.CRM\.In\(PropertyName='(\w+)',PropertyValues=\[(.*)\]\)\s*$/.exec(filter);
  if (inFn !== null) {
    const values = [...(inFn[2] ?? '').matchAll(/'((?:[^']|'')*)'/g)].map((m) => (m[1] ?? '').replace(/''/g, "'"));
    return { column: inFn[1] ?? '', values: new Set(values) };
  }
  return 'unsupported';
}

function project(row: DeliveryRow, select: readonly string[] | undefined): Record<string, unknown> {
  const { configId: _configId, taskId: _taskId, ...columns } = row;
  if (select === undefined) return { '@odata.etag': 'W/"1"', ...columns };
  const all = columns as unknown as Record<string, unknown>;
  return { '@odata.etag': 'W/"1"', ...Object.fromEntries(select.map((c) => [c, all[c] ?? null])) };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}

function stringField(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A parameter that Dataverse takes as a JSON array serialised into a string. */
function parseSerialised(body: unknown, name: string): Array<Record<string, unknown>> | undefined {
  const text = stringField(body, name);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : undefined;
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' }).end(JSON.stringify(body));
}

function odataError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

/** A scalar column or parameter as text ('' for anything else). */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}
