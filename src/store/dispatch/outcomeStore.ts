import type { TableClient, TransactionAction } from '@azure/data-tables';
import { callEventSchema, type CallEvent } from '../../contacts/callEvent.js';
import { SystemError, toFieldIssues, UserError } from '../../errors.js';
import { COUNT_STEP_MS, COUNT_HOUR_MS, countsOf, OutcomeCounts, stepOf } from '../../pacing/outcomeCounts.js';
import { COUNTER_COUNT } from '../../pacing/summarizeOutcomes.js';
import { odataString } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const OUTCOMES_TABLE = 'Outcomes';

const markerRow = (deliveryId: string, attempt: number) => `o|${deliveryId}|${attempt}`;
/**
 * Rows in the order they were recorded (ISO instants sort lexically in time order), so a reader can
 * continue from the last row it saw without missing an event that was reported late.
 */
const timeRow = (recordedAt: number, deliveryId: string, attempt: number) => `t|${new Date(recordedAt).toISOString()}|${deliveryId}|${attempt}`;

/** The hourly counter row an instant falls in: `h|2026-11-29T19`, sorting in time order. */
const hourRow = (atMs: number) => `h|${new Date(Math.floor(atMs / COUNT_HOUR_MS) * COUNT_HOUR_MS).toISOString().slice(0, 13)}`;
/** The engagement's one row naming every hourly row of the last 31 days with its version (see {@link OutcomeStore.hourVersions}). */
const INDEX_ROW = 'g|hours';
/** Hours kept in the index row: the longest window, and a day of margin for late reports. */
const INDEXED_HOURS_MS = 31 * 24 * COUNT_HOUR_MS;

/** One hourly counter row: its hour (`2026-11-29T19`), version, and counters by step start (ms). */
export interface HourCounts {
  readonly hour: string;
  readonly version: number;
  readonly steps: ReadonlyMap<number, readonly number[]>;
}

/** Counters of every step of the given hours, for {@link OutcomeCounts}. */
export function countsOfHours(hours: Iterable<HourCounts>): OutcomeCounts {
  const steps = new Map<number, readonly number[]>();
  for (const hour of hours) for (const [at, counts] of hour.steps) steps.set(at, counts);
  return new OutcomeCounts(steps);
}

function toHourCounts(entity: { rowKey: string; steps: string; version?: number }): HourCounts {
  const hour = entity.rowKey.slice(2);
  const start = Date.parse(`${hour}:00:00.000Z`);
  const steps = new Map<number, readonly number[]>();
  for (const [index, counts] of Object.entries(readSteps(entity.steps))) steps.set(start + Number(index) * COUNT_STEP_MS, counts);
  return { hour, version: entity.version ?? 0, steps };
}

function readVersions(text: unknown): Record<string, number> {
  if (typeof text !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch {
    return {};
  }
}

/** Writers racing for one hour's counter row each read it again; this many rounds is far past any real contention. */
const RECORD_TRIES = 25;

/** Results that say more about how an answered call ended than a plain LiveAnswer does. */
const ANSWERED_ENDINGS: ReadonlySet<CallEvent['result']> = new Set(['Abandoned', 'BotFailed']);

/**
 * Two reports of one attempt, combined: the first report's fields stand and the later one fills what
 * it left out (wait and handle times, the representative, whether it escalated). The one exception is
 * the result: an answered call the agent reported as LiveAnswer at hand-off that the dialer later
 * reports Abandoned (the customer hung up waiting for a representative) or BotFailed ended that way,
 * and the abandonment and failure rules must count it.
 */
export function mergeReports(first: CallEvent, later: CallEvent): CallEvent {
  const merged: Record<string, unknown> = { ...later, ...stripUndefined(first) };
  if (first.result === 'LiveAnswer' && ANSWERED_ENDINGS.has(later.result)) merged['result'] = later.result;
  return callEventSchema.parse(merged);
}

function stripUndefined(event: CallEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
}

function isConflict(error: unknown): boolean {
  const code = (error as { details?: { odataError?: { code?: string } } } | null)?.details?.odataError?.code;
  return tableErrorStatus(error) === 409 || code === 'EntityAlreadyExists';
}

/** Recorded events from one read: the events and the row key to continue after. */
export interface OutcomePage {
  readonly events: CallEvent[];
  readonly lastRowKey: string | undefined;
  /** Rows that could not be read as events (written by an older version, or damaged); skipped, and reported. */
  readonly skipped?: number;
}

/**
 * Outcome events per engagement: a marker row per (delivery, attempt) that makes recording
 * idempotent, and a time-ordered row with the event for the rules' "in the last N minutes" windows.
 * Both are written in one transaction, so an event is either fully recorded or not at all.
 */
export class OutcomeStore {
  constructor(
    private readonly tables: Tables,
    private readonly clock: () => number = Date.now,
    private readonly report: (line: string) => void = (line) => console.warn(line),
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(OUTCOMES_TABLE);
  }

  /**
   * Records the outcome of an attempt. The first report of an attempt decides what happens to the
   * delivery (`recorded`); a later report of the same attempt (the agent leg reports the disposition,
   * the dialer the end of the call) only completes it (`merged`: see {@link mergeReports}) or changes
   * nothing (`duplicate`). A merged event is written as a new time row, so incremental readers see it.
   *
   * The engagement's hourly counters (see {@link counts}) change in the same transaction as the
   * marker and time rows: an outcome is counted exactly when it is recorded, a merged report moves its
   * counts from what was counted to the merged event, and a crash can leave neither a recorded outcome
   * uncounted nor a count without its outcome. Two writers of one hour's row race on its etag; the
   * loser reads again.
   */
  async record(event: CallEvent): Promise<'recorded' | 'merged' | 'duplicate'> {
    // A row every reader would reject must never be written: it would stop pacing for the engagement.
    const valid = callEventSchema.safeParse(event);
    if (!valid.success) throw new UserError('InvalidRequest', 'the outcome cannot be stored', toFieldIssues(valid.error));
    const client = await this.client();
    return this.inTurn(event.engagementId, () => this.recordWithRetries(client, valid.data));
  }

  /** Writers of one engagement's counters, in this process, one after another (see {@link inTurn}). */
  private readonly turns = new Map<string, Promise<unknown>>();

  /**
   * Runs `work` after the engagement's earlier recordings in this process: every outcome of an
   * engagement writes its index row, so concurrent recordings in one process would only race on its
   * etag and retry; queued, they each commit at the first try. Other processes still race, and retry.
   */
  private inTurn<T>(engagementId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(engagementId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.turns.set(engagementId, settled);
    void settled.then(() => {
      if (this.turns.get(engagementId) === settled) this.turns.delete(engagementId);
    });
    return next;
  }

  private async recordWithRetries(client: TableClient, event: CallEvent): Promise<'recorded' | 'merged' | 'duplicate'> {
    for (let tries = 0; tries < RECORD_TRIES; tries++) {
      // The first try assumes a first report (the usual case) and reads no marker: a report already
      // recorded fails its create, and the next try reads the marker and merges.
      const result = await this.recordOnce(client, event, tries === 0);
      if (result !== 'retry') return result;
    }
    // Retryable: the outcome is not recorded, and the same report sent again is recorded once.
    throw new SystemError(
      'DependencyFailed',
      `outcome of ${event.deliveryId}#${event.attempt} (${event.engagementId}) not recorded: other writers kept changing its rows`,
      true,
    );
  }

  private async recordOnce(client: TableClient, event: CallEvent, assumeFirst: boolean): Promise<'recorded' | 'merged' | 'duplicate' | 'retry'> {
    const pk = event.engagementId;
    const marker = markerRow(event.deliveryId, event.attempt);
    const current = assumeFirst ? undefined : await getOrUndefined<{ result: string; timeRow: string; counted?: boolean }>(client, pk, marker);
    if (current === undefined) {
      const row = timeRow(this.clock(), event.deliveryId, event.attempt);
      const counters = await counterActions(client, pk, [{ event, sign: 1 }]);
      try {
        await client.submitTransaction([
          ['create', { partitionKey: pk, rowKey: marker, result: event.result, timeRow: row, counted: true }],
          ['create', { partitionKey: pk, rowKey: row, event: JSON.stringify(event) }],
          ...counters,
        ]);
        return 'recorded';
      } catch (error) {
        // The same attempt recorded meanwhile, or another outcome moved the hour's counters: read again.
        if (isConflict(error) || tableErrorStatus(error) === 412) return 'retry';
        throw error;
      }
    }
    const read = readEvent((await client.getEntity<{ event: string }>(pk, current.timeRow)).event);
    // A stored row no reader accepts is replaced by this valid report rather than merged with.
    const merged = read.ok ? mergeReports(read.value, event) : event;
    if (read.ok && JSON.stringify(merged) === JSON.stringify(read.value) && current.counted === true) return 'duplicate';
    const next = timeRow(this.clock(), event.deliveryId, event.attempt);
    const markerUpdate: TransactionAction = [
      'update',
      { partitionKey: pk, rowKey: marker, result: merged.result, timeRow: next, counted: true },
      'Replace',
      { etag: current.etag },
    ];
    // What was counted comes out, the merged event goes in. A row recorded before the counters existed
    // was never counted: only the merged event goes in.
    const changes =
      current.counted === true && read.ok
        ? [
            { event: read.value, sign: -1 as const },
            { event: merged, sign: 1 as const },
          ]
        : [{ event: merged, sign: 1 as const }];
    const counters = await counterActions(client, pk, changes);
    try {
      // Within the same millisecond the time row keeps its key: a delete and a create of one row in one
      // transaction is refused by Table Storage, so it is replaced in place.
      await client.submitTransaction(
        next === current.timeRow
          ? [markerUpdate, ['update', { partitionKey: pk, rowKey: next, event: JSON.stringify(merged) }, 'Replace'], ...counters]
          : [
              markerUpdate,
              ['delete', { partitionKey: pk, rowKey: current.timeRow }],
              ['create', { partitionKey: pk, rowKey: next, event: JSON.stringify(merged) }],
              ...counters,
            ],
      );
      return 'merged';
    } catch (error) {
      // Another report merged in between (412), in the same millisecond (409), or the counters moved: read again.
      if (tableErrorStatus(error) !== 412 && !isConflict(error)) throw error;
      return 'retry';
    }
  }

  /**
   * The engagement's outcome counters per 5-minute step for events that ended in [fromMs, toMs]: one
   * range read of its hourly rows (at most 721 for a 30-day window), whatever the number of calls.
   */
  async counts(engagementId: string, fromMs: number, toMs: number): Promise<OutcomeCounts> {
    return countsOfHours(await this.hourRows(engagementId, fromMs, toMs));
  }

  /** The hourly counter rows of events that ended in [fromMs, toMs], in one partition range read. */
  async hourRows(engagementId: string, fromMs: number, toMs: number): Promise<HourCounts[]> {
    const client = await this.client();
    const rows: HourCounts[] = [];
    const entities = client.listEntities<{ rowKey: string; steps: string; version?: number }>({
      queryOptions: {
        filter: `PartitionKey eq ${odataString(engagementId)} and RowKey ge ${odataString(hourRow(fromMs))} and RowKey le ${odataString(hourRow(toMs))}`,
        select: ['RowKey', 'steps', 'version'],
      },
    });
    for await (const entity of entities) rows.push(toHourCounts(entity));
    return rows;
  }

  /** One hourly counter row (a point read), or `undefined` when no outcome ended in that hour. */
  async hourRow(engagementId: string, hour: string): Promise<HourCounts | undefined> {
    const entity = await getOrUndefined<{ rowKey: string; steps: string; version?: number }>(await this.client(), engagementId, `h|${hour}`);
    return entity === undefined ? undefined : toHourCounts(entity);
  }

  /**
   * The version of each hourly counter row of the engagement (hour -> version, the last 31 days), in
   * one point read: a reader that keeps rows between ticks reads again only the hours whose version moved.
   */
  async hourVersions(engagementId: string): Promise<Map<string, number>> {
    const entity = await getOrUndefined<{ hours: string }>(await this.client(), engagementId, INDEX_ROW);
    return new Map(Object.entries(readVersions(entity?.hours)));
  }

  /** Whether a report of this attempt has been recorded. */
  async has(engagementId: string, deliveryId: string, attempt: number): Promise<boolean> {
    const client = await this.client();
    try {
      await client.getEntity(engagementId, markerRow(deliveryId, attempt), { queryOptions: { select: ['RowKey'] } });
      return true;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return false;
      throw error;
    }
  }

  /** The recorded outcome of one attempt (merged reports as one), or `undefined` when none was recorded. */
  async get(engagementId: string, deliveryId: string, attempt: number): Promise<CallEvent | undefined> {
    const client = await this.client();
    try {
      const marker = await client.getEntity<{ timeRow: string }>(engagementId, markerRow(deliveryId, attempt));
      const read = readEvent((await client.getEntity<{ event: string }>(engagementId, marker.timeRow)).event);
      return read.ok ? read.value : undefined;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** Events of an engagement recorded at or after `since` (ms), in recording order. */
  async since(engagementId: string, since: number): Promise<OutcomePage> {
    return this.read(engagementId, `RowKey ge ${odataString(`t|${new Date(since).toISOString()}`)}`);
  }

  /** Events recorded after the row `afterRowKey` (exclusive), in recording order. */
  async after(engagementId: string, afterRowKey: string): Promise<OutcomePage> {
    return this.read(engagementId, `RowKey gt ${odataString(afterRowKey)}`);
  }

  private async read(engagementId: string, lowerBound: string): Promise<OutcomePage> {
    const client = await this.client();
    const events: CallEvent[] = [];
    let lastRowKey: string | undefined;
    const entities = client.listEntities<{ rowKey: string; event: string }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)} and ${lowerBound} and RowKey lt 't}'`, select: ['RowKey', 'event'] },
    });
    let skipped = 0;
    for await (const entity of entities) {
      lastRowKey = entity.rowKey;
      const event = readEvent(entity.event);
      if (event.ok) {
        events.push(event.value);
        continue;
      }
      skipped++;
      // The row key names the delivery and attempt, never the contact; the issue names fields, not values.
      this.report(`outcome row ${engagementId}/${entity.rowKey} skipped: ${event.problem}`);
    }
    return skipped === 0 ? { events, lastRowKey } : { events, lastRowKey, skipped };
  }
}

function readEvent(text: unknown): { ok: true; value: CallEvent } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(String(text));
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = callEventSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problem: toFieldIssues(parsed.error)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ')
      .slice(0, 500),
  };
}

async function getOrUndefined<T extends object>(client: TableClient, pk: string, rk: string): Promise<(T & { etag: string }) | undefined> {
  try {
    return await client.getEntity<T>(pk, rk);
  } catch (error) {
    if (tableErrorStatus(error) === 404) return undefined;
    throw error;
  }
}

/** An hourly row's counters: step index within the hour -> counter vector (steps without events are absent). */
type StepCounts = Record<string, number[]>;

function readSteps(text: unknown): StepCounts {
  try {
    const parsed: unknown = JSON.parse(String(text));
    if (parsed === null || typeof parsed !== 'object') return {};
    const steps: StepCounts = {};
    for (const [index, counts] of Object.entries(parsed)) {
      if (Array.isArray(counts) && counts.every((n) => typeof n === 'number')) steps[index] = counts;
    }
    return steps;
  } catch {
    return {};
  }
}

/**
 * The writes that move the engagement's hourly counters by `changes` (an event counted in, or out):
 * one create or etag'd replace per hour row touched, each with its version one up, and the same for
 * the engagement's index row naming the hours' versions, for the recorder's transaction.
 */
async function counterActions(client: TableClient, pk: string, changes: readonly { event: CallEvent; sign: 1 | -1 }[]): Promise<TransactionAction[]> {
  const byHour = new Map<string, { add: number; counts: Float64Array }[]>();
  for (const { event, sign } of changes) {
    const at = Date.parse(event.at);
    const step = stepOf(at);
    const hour = hourRow(at);
    const list = byHour.get(hour) ?? [];
    list.push({ add: (step % COUNT_HOUR_MS) / COUNT_STEP_MS, counts: countsOf(event).map((n) => n * sign) });
    byHour.set(hour, list);
  }
  const [index, ...rows] = await Promise.all([
    getOrUndefined<{ hours: string }>(client, pk, INDEX_ROW),
    ...[...byHour.keys()].map((rowKey) => getOrUndefined<{ steps: string; version?: number }>(client, pk, rowKey)),
  ]);
  const versions = readVersions(index?.hours);
  const actions: TransactionAction[] = [];
  for (const [i, [rowKey, list]] of [...byHour].entries()) {
    const current = rows[i];
    const steps = current === undefined ? {} : readSteps(current.steps);
    for (const { add, counts } of list) {
      const key = String(add);
      const sum = Array.from({ length: COUNTER_COUNT }, (_, k) => round((steps[key]?.[k] ?? 0) + (counts[k] ?? 0)));
      if (sum.every((n) => n === 0)) delete steps[key];
      else steps[key] = sum;
    }
    const version = (current?.version ?? 0) + 1;
    versions[rowKey.slice(2)] = version;
    const entity = { partitionKey: pk, rowKey, steps: JSON.stringify(steps), version };
    actions.push(current === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag: current.etag }]);
  }
  const newest = Math.max(...Object.keys(versions).map((hour) => Date.parse(`${hour}:00:00.000Z`)));
  for (const hour of Object.keys(versions)) if (Date.parse(`${hour}:00:00.000Z`) < newest - INDEXED_HOURS_MS) delete versions[hour];
  const entity = { partitionKey: pk, rowKey: INDEX_ROW, hours: JSON.stringify(versions) };
  actions.push(index === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag: index.etag }]);
  return actions;
}

/** Wait sums are fractional: a sum taken out again must come back to what it was, not to 1e-15. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
