import type { ActionOutcome } from '../dialers/dynamics365/dataverseClient.js';
import { ensureError, SystemError } from '../errors.js';
import { backoffDelay } from '../http/backoffDelay.js';
import type { JourneyOutboxStore, OutboxItem } from '../store/journeyOutcomes/journeyOutboxStore.js';
import { toJourneyTriggerBody } from './journeyOutcome.js';

export interface JourneyOutboxDeps {
  readonly outbox: JourneyOutboxStore;
  /** The Dataverse client (DATAVERSE_URL); its own retries honour 429 Retry-After within one send. */
  readonly dataverse: { invokeAction(action: string, body: object, signal?: AbortSignal): Promise<ActionOutcome> };
  readonly clock: () => number;
  readonly maxAttempts: number;
  /** How long a send holds its row; a drain that dies mid-send is retried after this. */
  readonly claimMs: number;
  /** Rows taken per drain. */
  readonly batchSize: number;
  readonly random?: () => number;
  readonly log: (line: string) => void;
}

export interface DrainSummary {
  readonly sent: number;
  readonly rescheduled: number;
  readonly failed: number;
  /** True when Dataverse throttled or refused the caller and the rest waits for the next drain. */
  readonly stoppedEarly: boolean;
}

/** Backoff between outbox retries (on top of the client's own short retries). */
const OUTBOX_BACKOFF = { baseDelayMs: 5_000, maxDelayMs: 15 * 60_000 };

/**
 * Sends due journey outcomes to their custom triggers, one at a time in due order. Each row is claimed
 * (ETag) before its send and marked sent after it, so concurrent drains never send the same row, and
 * a crash between claim and mark leaves a claim that expires: the row is sent again, never lost.
 *
 * A 2xx marks the row sent; a 4xx refusal fails it at once (retrying an unchanged request cannot help;
 * the error is in the status); throttling and transient failures reschedule it with backoff, or after
 * Retry-After when Dataverse gave one, and stop this drain, since every other row would meet the same
 * throttle. A row that runs out of attempts is failed.
 */
export async function drainJourneyOutbox(deps: JourneyOutboxDeps): Promise<DrainSummary> {
  const due = await deps.outbox.due(deps.clock(), deps.batchSize);
  let sent = 0;
  let rescheduled = 0;
  let failed = 0;
  for (const item of due) {
    const now = deps.clock();
    const claimed = await deps.outbox.claim(item, now, deps.claimMs);
    if (claimed === undefined) continue;
    const verdict = await send(deps, claimed, now);
    if (verdict.kind === 'sent') {
      await deps.outbox.markSent(claimed, deps.clock());
      sent++;
      continue;
    }
    const label = `journey outcome ${claimed.outcome.triggerName} for delivery ${claimed.outcome.deliveryId}`;
    if (verdict.kind === 'refused' || claimed.attempts >= deps.maxAttempts) {
      await deps.outbox.markFailed(claimed, verdict.error, deps.clock());
      deps.log(`${label} failed after ${claimed.attempts} attempt(s): ${verdict.error}`);
      failed++;
      if (verdict.kind === 'retry' && verdict.stop) return { sent, rescheduled, failed, stoppedEarly: true };
      continue;
    }
    const wait = verdict.retryAfterMs ?? backoffDelay(claimed.attempts + 1, OUTBOX_BACKOFF, deps.random);
    await deps.outbox.reschedule(claimed, deps.clock() + wait, verdict.error, deps.clock());
    deps.log(`${label}: attempt ${claimed.attempts} failed (${verdict.error}); next in ${Math.round(wait / 1000)} s`);
    rescheduled++;
    if (verdict.stop) return { sent, rescheduled, failed, stoppedEarly: true };
  }
  return { sent, rescheduled, failed, stoppedEarly: false };
}

type Verdict =
  | { readonly kind: 'sent' }
  | { readonly kind: 'refused'; readonly error: string }
  | { readonly kind: 'retry'; readonly error: string; readonly retryAfterMs: number | undefined; readonly stop: boolean };

async function send(deps: JourneyOutboxDeps, item: OutboxItem, now: number): Promise<Verdict> {
  try {
    const outcome = await deps.dataverse.invokeAction(item.outcome.triggerName, toJourneyTriggerBody(item.outcome, now));
    if (outcome.ok) return { kind: 'sent' };
    return { kind: 'refused', error: `HTTP ${outcome.status}${outcome.code === undefined ? '' : ` ${outcome.code}`}: ${outcome.message}` };
  } catch (thrown) {
    const error = ensureError(thrown);
    if (error instanceof SystemError) {
      // Out of retries (throttled, 5xx, network) or the caller itself refused (401/403, no token): the
      // next rows would fare the same, so they wait for the next drain.
      return { kind: 'retry', error: error.message, retryAfterMs: error.retryAfterMs, stop: true };
    }
    return { kind: 'retry', error: error.message, retryAfterMs: undefined, stop: false };
  }
}
