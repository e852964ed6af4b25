import { SystemError, ensureError } from '../../errors.js';
import type { CallEvent } from '../../contacts/callEvent.js';
import type { DialRequest, DialSubmission, DialerPort, HandedCall, InFlightDelivery, Reconciliation } from '../dialerPort.js';
import { type ActionOutcome, DataverseClient } from './dataverseClient.js';
import { type DeliveryRefStore, InMemoryDeliveryRefStore } from './deliveryRefStore.js';
import { type Dynamics365DialerOptions, type Dynamics365DialerOptionsInput, parseDynamics365DialerOptions } from './dynamics365DialerOptions.js';
import { FORMATTED, type EngagementConfigReader } from './checkEngagementConfigs.js';
import { type BulkSubmission, type SingleSubmission, planSubmissions } from './planSubmissions.js';
import { type ReconcileCounts, reconcileDeliveries } from './reconcileDeliveries.js';
import { InMemoryThrottleStore, type ThrottleStore } from './throttleStore.js';

export const CREATE_DELIVERY_ACTION = 'CCaaS_CreateProactiveDelivery';
export const CREATE_BULK_ACTION = 'CCaaS_CreateProactiveDeliveryBulkV2';
export const CANCEL_DELIVERY_ACTION = 'CCaaS_CancelDeliveryTask';

/**
 * Statuses that say the action or the engagement config is missing or the call is not allowed,
 * not that this delivery is wrong: they would refuse every delivery alike, so they stop the call
 * (keeping the deliveries pending) instead of rejecting each one for good.
 */
const SYSTEMIC_STATUSES: ReadonlySet<number> = new Set([404, 405]);

/**
 * The production dialer: hands calls to Dynamics 365 Contact Center's proactive engagement service
 * through the Dataverse CCaaS_* actions; D365 then dials according to the engagement config's dial
 * mode and reports outcomes back through `POST /api/call-events`.
 *
 * Idempotency: every (deliveryId, attempt) has a fixed RequestId, retries resend that same id, and
 * what D365 accepted is remembered in the {@link DeliveryRefStore} so a repeated dial() answers from
 * there instead of creating a second D365 delivery.
 */
export class Dynamics365Dialer implements DialerPort, EngagementConfigReader {
  readonly name = 'dynamics365' as const;
  private readonly options: Dynamics365DialerOptions;
  private readonly client: DataverseClient;
  private readonly refs: DeliveryRefStore;
  private readonly throttle: ThrottleStore;
  private readonly now: () => number;
  /** Dataverse reads of the reconcile passes so far (queries, pages, task reads), for logs and the bench. */
  readonly reconcileCounts: ReconcileCounts = { queries: 0, pages: 0, taskReads: 0 };

  constructor(input: Dynamics365DialerOptionsInput) {
    this.options = parseDynamics365DialerOptions(input);
    this.client = new DataverseClient({
      orgUrl: this.options.orgUrl,
      credential: this.options.credential,
      retry: this.options.retry,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      ...(this.options.sleep === undefined ? {} : { sleep: this.options.sleep }),
      ...(this.options.now === undefined ? {} : { now: this.options.now }),
    });
    this.refs = this.options.refStore ?? new InMemoryDeliveryRefStore();
    this.throttle = this.options.throttleStore ?? new InMemoryThrottleStore();
    this.now = this.options.now ?? Date.now;
  }

  /** When Dataverse allows calls again, if it asked this organisation's callers to wait (any instance, any tick). */
  async throttledUntil(now: number): Promise<number | undefined> {
    const state = await this.throttle.get();
    return state !== undefined && state.until > now ? state.until : undefined;
  }

  /**
   * Outcomes of deliveries in flight, read from Dynamics 365 (see {@link reconcileDeliveries}).
   * Throws a retryable SystemError while Dataverse is throttling, like dial().
   */
  async pollOutcomes(inFlight: readonly InFlightDelivery[], now: number): Promise<CallEvent[]> {
    if (inFlight.length === 0) return [];
    return this.guarded(() => reconcileDeliveries(this.client, this.refs, inFlight, now, undefined, this.reconcileCounts));
  }

  /**
   * Reads one msdyn_proactive_engagement_config (the start-up check compares it with the engagement
   * file), with the labels of its choice and lookup columns. Same throttling and errors as dial().
   */
  async readEngagementConfig(configId: string): Promise<ActionOutcome> {
    const select = ['msdyn_name', 'msdyn_dial_mode', 'msdyn_primary_queue', 'msdyn_max_calls_per_representative'].join(',');
    return this.guarded(() =>
      this.client.read(`msdyn_proactive_engagement_configs(${encodeURIComponent(configId)})?$select=${select}`, 'msdyn_proactive_engagement_config read', {
        Prefer: `odata.include-annotations="${FORMATTED.slice(1)}"`,
      }),
    );
  }

  /**
   * The sweep's question about calls handed over long ago: those Dynamics 365 has an outcome for have
   * ended; the rest are held as in progress, because Dynamics 365 keeps a delivery (and may still
   * dial it) until its window ends, and the sweep ends those itself after the window plus the longest
   * call.
   */
  async reconcile(calls: readonly HandedCall[], now: number): Promise<Reconciliation[]> {
    if (calls.length === 0) return [];
    const events = await this.pollOutcomes(calls, now);
    const ended = new Map(events.map((e) => [`${e.deliveryId}#${e.attempt}`, e]));
    return calls.map((c) => {
      const event = ended.get(`${c.deliveryId}#${c.attempt}`);
      return event === undefined
        ? { deliveryId: c.deliveryId, attempt: c.attempt, status: 'in-progress' as const }
        : { deliveryId: c.deliveryId, attempt: c.attempt, status: 'ended' as const, event };
    });
  }

  /**
   * Runs Dataverse calls unless the organisation is throttled, and remembers, for every tick and
   * instance, how long to leave it alone when throttling (429: its Retry-After) or a burst of faults
   * (5xx, network: `faultPauseMs`) outlasted the retries.
   */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    const now = this.now();
    const state = await this.throttle.get();
    if (state !== undefined && state.until > now) {
      throw new SystemError('Throttled', `Dynamics 365 is throttling this organisation until ${new Date(state.until).toISOString()} (${state.reason})`, true, {
        retryAfterMs: state.until - now,
      });
    }
    try {
      return await work();
    } catch (thrown) {
      if (thrown instanceof SystemError && thrown.retryable && (thrown.code === 'Throttled' || thrown.code === 'DependencyFailed')) {
        const waitMs = thrown.code === 'Throttled' ? (thrown.retryAfterMs ?? this.options.faultPauseMs) : this.options.faultPauseMs;
        const reason = thrown.code === 'Throttled' ? 'HTTP 429 service protection limit' : 'server faults outlasted the retries';
        await this.throttle.extend({ until: this.now() + Math.max(waitMs, 1_000), reason });
      }
      throw thrown;
    }
  }

  /**
   * Submits the requests and reports, per request (in input order), `accepted` with D365's
   * reference or `rejected` with the reason. Throws a SystemError (retryable when throttling or
   * faults outlasted the retries) when the call could not be completed: requests D365 accepted
   * before that are remembered, so the caller simply dials the same batch again later.
   */
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    return this.guarded(() => this.dialUnguarded(requests));
  }

  private async dialUnguarded(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    const results = new Map<string, DialSubmission>();
    const unique = [...new Map(requests.map((request) => [keyOf(request), request])).values()];
    const known = await Promise.all(unique.map((request) => this.refs.get(request.deliveryId)));
    const toSend: DialRequest[] = [];
    unique.forEach((request, index) => {
      const ref = known[index];
      if (ref !== undefined && ref.attempt === request.attempt) {
        results.set(keyOf(request), { deliveryId: request.deliveryId, status: 'accepted', backendRef: ref.backendRef });
      } else {
        toSend.push(request);
      }
    });

    const plan = planSubmissions(toSend, this.options);
    for (const { request, reason } of plan.rejected) {
      results.set(keyOf(request), { deliveryId: request.deliveryId, status: 'rejected', reason });
    }
    const tasks = [
      ...plan.bulks.map((bulk) => () => this.submitBulk(bulk, results)),
      ...plan.singles.map((single) => () => this.submitSingle(single, results)),
    ];
    await runLimited(tasks, this.options.concurrency);

    return requests.map((request) => {
      const result = results.get(keyOf(request));
      if (result === undefined) {
        // Unreachable: every queued request is answered or runLimited threw.
        throw new SystemError('DependencyFailed', `delivery ${request.deliveryId} got no submission result`, true);
      }
      return result;
    });
  }

  /**
   * Cancels the D365 delivery tasks of these deliveries. Ids never handed to D365 are ignored, as
   * are tasks D365 no longer knows or has finished (it answers 4xx). Deliveries sent in bulk have
   * no task id in the bulk response, so they cannot be cancelled one by one: they are reported
   * through `onWarning` and left to expire with their window (or a CCaaS_CreateOperation cancel of
   * the whole engagement config by an operator).
   */
  async cancel(deliveryIds: readonly string[]): Promise<void> {
    const tasks = [...new Set(deliveryIds)].map((deliveryId) => async () => {
      const ref = await this.refs.get(deliveryId);
      if (ref === undefined) return;
      if (ref.deliveryTaskId === undefined) {
        this.warn(`delivery ${deliveryId} was sent in bulk (${ref.backendRef}); Dynamics 365 gave no delivery task id to cancel it by`);
        return;
      }
      const outcome = await this.client.invokeAction(CANCEL_DELIVERY_ACTION, {
        ApiVersion: this.options.apiVersion,
        DeliveryTaskId: ref.deliveryTaskId,
      });
      if (!outcome.ok) {
        if (outcome.status === 405) throw systemic(CANCEL_DELIVERY_ACTION, outcome);
        this.warn(`Dynamics 365 did not cancel delivery ${deliveryId} (HTTP ${outcome.status}): ${outcome.message}`);
      }
      await this.refs.delete(deliveryId);
    });
    await this.guarded(() => runLimited(tasks, this.options.concurrency));
  }

  private async submitSingle(single: SingleSubmission, results: Map<string, DialSubmission>): Promise<void> {
    const { request } = single;
    const outcome = await this.client.invokeAction(CREATE_DELIVERY_ACTION, single.body);
    if (!outcome.ok) {
      if (SYSTEMIC_STATUSES.has(outcome.status)) throw systemic(CREATE_DELIVERY_ACTION, outcome);
      results.set(keyOf(request), {
        deliveryId: request.deliveryId,
        status: 'rejected',
        reason: `Dynamics 365 refused the delivery (HTTP ${outcome.status}${codeSuffix(outcome)}): ${outcome.message}`,
      });
      return;
    }
    const deliveryTaskId = readDeliveryTaskId(outcome.body);
    const backendRef = deliveryTaskId === undefined ? `request:${single.body.RequestId}` : `deliveryTask:${deliveryTaskId}`;
    await this.refs.put(request.deliveryId, {
      attempt: request.attempt,
      backendRef,
      ...(deliveryTaskId === undefined ? {} : { deliveryTaskId }),
      contactId: request.contact.contactId,
    });
    results.set(keyOf(request), { deliveryId: request.deliveryId, status: 'accepted', backendRef });
  }

  private async submitBulk(bulk: BulkSubmission, results: Map<string, DialSubmission>): Promise<void> {
    const outcome = await this.client.invokeAction(CREATE_BULK_ACTION, bulk.body);
    if (!outcome.ok) {
      if (SYSTEMIC_STATUSES.has(outcome.status)) throw systemic(CREATE_BULK_ACTION, outcome);
      // One bad record fails the whole chunk; sent singly, only that one is rejected.
      this.warn(
        `Dynamics 365 refused bulk request ${bulk.body.RequestId} of ${bulk.requests.length} deliveries ` +
          `(HTTP ${outcome.status}): ${outcome.message}; sending them one by one`,
      );
      for (const single of bulk.fallback()) await this.submitSingle(single, results);
      return;
    }
    const backendRef = `bulk:${bulk.body.RequestId}`;
    await Promise.all(
      bulk.requests.map((request) => this.refs.put(request.deliveryId, { attempt: request.attempt, backendRef, contactId: request.contact.contactId })),
    );
    for (const request of bulk.requests) {
      results.set(keyOf(request), { deliveryId: request.deliveryId, status: 'accepted', backendRef });
    }
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }
}

function keyOf(request: DialRequest): string {
  return `${request.deliveryId}\n${request.attempt}`;
}

type Refusal = Extract<ActionOutcome, { ok: false }>;

function codeSuffix(outcome: Refusal): string {
  return outcome.code === undefined ? '' : `, ${outcome.code}`;
}

function systemic(action: string, outcome: Refusal): SystemError {
  return new SystemError(
    'DependencyFailed',
    `Dataverse ${action} answered HTTP ${outcome.status}${codeSuffix(outcome)}: ${outcome.message}. ` +
      'Check that Dynamics 365 Contact Center proactive engagement is installed in this environment and the engagement config id exists.',
    false,
  );
}

/**
 * D365 documents that CCaaS_CreateProactiveDelivery's response carries the DeliveryTaskId that
 * CCaaS_CancelDeliveryTask takes, without a sample; the older voice API returns `DeliveryId`. Both
 * are looked for, in any letter case.
 */
function readDeliveryTaskId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const entries = Object.entries(body);
  for (const wanted of ['deliverytaskid', 'deliveryid']) {
    for (const [key, value] of entries) {
      if (key.toLowerCase() === wanted && typeof value === 'string' && value !== '') return value;
    }
  }
  return undefined;
}

/**
 * Runs tasks with at most `limit` in flight. After the first failure no new task starts; the ones
 * in flight are awaited (their results recorded) and then the first failure is thrown.
 */
async function runLimited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failure: Error | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length) {
      const task = tasks[next];
      next += 1;
      if (task === undefined) break;
      try {
        await task();
      } catch (thrown) {
        failure ??= ensureError(thrown);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure;
}
