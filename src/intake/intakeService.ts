import { createHash } from 'node:crypto';
import type { ServiceBusSender } from '@azure/service-bus';
import { buildContactBatches, maxBodyBytesFor, publishContactBatches } from '../bus/publishContactBatches.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { EngagementConfig, QueueConfig } from '../engagement/engagementSchema.js';
import { UserError } from '../errors.js';
import { planDeliveries, type Plan, type SkipReason, type TriggerContact } from '../planning/planDeliveries.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore, PendingSnapshot } from '../store/contacts/pendingContactStore.js';
import { DELIVERY_GRACE_MS, lastWindowEnd } from '../pacing/nextCallable.js';

export interface IntakeDeps {
  readonly catalog: EngagementCatalog;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  readonly pending: PendingContactStore;
  readonly sender: ServiceBusSender;
  readonly batchMaxContacts: number;
  readonly clock?: () => number;
}

/** A trigger as intake sees it: where it came from and its contacts in order. */
export interface Trigger {
  /** `segment:<segmentId>/<exportRunId>/<page>` or `events:<hash of the event ids>`. */
  readonly sourceKey: string;
  readonly contacts: readonly TriggerContact[];
}

export interface AcceptedTrigger {
  readonly triggerId: string;
  readonly engagementId: string;
  readonly received: number;
  readonly accepted: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  readonly batches: number;
  readonly scheduledBatches: number;
  readonly firstWindowStart: string | null;
}

export interface PreviewSummary {
  readonly engagementId: string;
  readonly received: number;
  readonly wouldCall: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  readonly firstWindowStart: string | null;
  readonly lastWindowEnd: string | null;
  /** Contacts by the UTC hour their first window opens. */
  readonly schedule: readonly { readonly hour: string; readonly contacts: number }[];
  readonly byTimeZone: Readonly<Record<string, number>>;
  /** Contacts by the UTC hour their first window opens and their time zone (calls per hour by zone). */
  readonly scheduleByTimeZone: readonly { readonly hour: string; readonly timeZone: string; readonly contacts: number }[];
  readonly timezoneInferred: number;
  /** Up to 20 skipped contact ids per reason, to check the rules against known records. */
  readonly skippedExamples: Readonly<Partial<Record<SkipReason, readonly string[]>>>;
}

/** Deterministic trigger id: the same source for the same engagement is the same trigger. */
export function triggerIdFor(engagementId: string, sourceKey: string): string {
  return `t${createHash('sha256').update(`${engagementId}\n${sourceKey}`).digest('hex').slice(0, 32)}`;
}

/** Source key of a journey-event request: the sorted event ids, so a retry of the same events is the same trigger. */
export function journeySourceKey(eventIds: readonly string[]): string {
  const digest = createHash('sha256')
    .update([...eventIds].sort().join('\n'))
    .digest('hex')
    .slice(0, 32);
  return `events:${digest}`;
}

/**
 * The front door's application service: loads what planning needs from the stores, plans (pure),
 * then publishes batches and marks contacts pending. Publishing happens before marking, and both are
 * idempotent by trigger id, so a failure part-way is repaired by the caller retrying the same trigger.
 */
export class IntakeService {
  private readonly clock: () => number;
  private maxBodyBytes: Promise<number> | undefined;

  constructor(private readonly deps: IntakeDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  engagement(engagementId: string): { engagement: EngagementConfig; queue: QueueConfig } {
    const engagement = this.deps.catalog.engagements.get(engagementId);
    if (engagement === undefined) throw new UserError('EngagementNotFound', `no engagement with id "${engagementId}"`);
    const queue = this.deps.catalog.queues.get(engagement.routing.primaryQueue);
    if (queue === undefined) throw new UserError('EngagementNotFound', `engagement "${engagementId}" names unknown queue "${engagement.routing.primaryQueue}"`);
    return { engagement, queue };
  }

  async accept(engagementId: string, trigger: Trigger): Promise<AcceptedTrigger> {
    const { engagement, queue } = this.engagement(engagementId);
    const triggerId = triggerIdFor(engagement.id, trigger.sourceKey);
    const now = this.clock();
    const planned = await this.plan(engagement, queue, triggerId, trigger.contacts, now);
    const plan = await this.reserve(engagement.id, triggerId, planned, now);
    const batches = buildContactBatches({
      engagement,
      triggerId,
      planned: plan.planned,
      maxContacts: this.deps.batchMaxContacts,
      maxBodyBytes: await this.bodyBudget(),
      now,
    });
    let published;
    const out = new Set<string>();
    try {
      published = await publishContactBatches(this.deps.sender, batches, (sent) => {
        for (const b of sent) for (const c of b.contacts) out.add(c.contactId);
      });
    } catch (error) {
      // Give back what this call reserved and did not publish, so neither a retry nor another trigger
      // finds those contacts held by nothing. Contacts whose batch is out stay reserved: dispatch will
      // store them, and the retry of this trigger (same id) holds them again and re-sends only what
      // duplicate detection lets through.
      const fresh = plan.planned.filter(({ contact }) => planned.pending.pending.get(contact.contactId) !== triggerId && !out.has(contact.contactId));
      await this.deps.pending.unreserve(
        engagement.id,
        fresh.map(({ contact }) => ({ contactId: contact.contactId, deliveryId: contact.deliveryId })),
      );
      throw error;
    }
    return {
      triggerId,
      engagementId: engagement.id,
      received: trigger.contacts.length,
      accepted: plan.planned.length,
      skipped: plan.skippedCounts,
      batches: published.sent + published.scheduled,
      scheduledBatches: published.scheduled,
      firstWindowStart: firstWindowStart(plan),
    };
  }

  async preview(engagementId: string, contacts: readonly TriggerContact[]): Promise<PreviewSummary> {
    const { engagement, queue } = this.engagement(engagementId);
    const plan = await this.plan(engagement, queue, 'preview', contacts, this.clock());
    const schedule = new Map<string, number>();
    const byHourAndZone = new Map<string, number>();
    const byTimeZone: Record<string, number> = {};
    let lastEnd = 0;
    let inferred = 0;
    for (const { contact } of plan.planned) {
      const first = contact.windows[0]?.start ?? '';
      const hour = `${first.slice(0, 13)}:00:00.000Z`;
      schedule.set(hour, (schedule.get(hour) ?? 0) + 1);
      const zoned = `${hour}|${contact.timeZone}`;
      byHourAndZone.set(zoned, (byHourAndZone.get(zoned) ?? 0) + 1);
      byTimeZone[contact.timeZone] = (byTimeZone[contact.timeZone] ?? 0) + 1;
      if (contact.timezoneInferred) inferred++;
      for (const w of contact.windows) lastEnd = Math.max(lastEnd, Date.parse(w.end));
    }
    const skippedExamples: Partial<Record<SkipReason, string[]>> = {};
    for (const s of plan.skipped) {
      const list = (skippedExamples[s.reason] ??= []);
      if (list.length < 20) list.push(s.contactId);
    }
    return {
      engagementId: engagement.id,
      received: contacts.length,
      wouldCall: plan.planned.length,
      skipped: plan.skippedCounts,
      firstWindowStart: firstWindowStart(plan),
      lastWindowEnd: lastEnd === 0 ? null : new Date(lastEnd).toISOString(),
      schedule: [...schedule.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([hour, n]) => ({ hour, contacts: n })),
      byTimeZone,
      scheduleByTimeZone: [...byHourAndZone.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([key, n]) => ({ hour: key.slice(0, key.indexOf('|')), timeZone: key.slice(key.indexOf('|') + 1), contacts: n })),
      timezoneInferred: inferred,
      skippedExamples,
    };
  }

  /**
   * Reserves the planned contacts with a conditional write before anything is published. A planned
   * contact whose delivery already ended (a replayed trigger) or that another trigger reserved first
   * is skipped as a duplicate and changes nothing.
   */
  private async reserve(engagementId: string, triggerId: string, plan: Plan & { pending: PendingSnapshot }, now: number): Promise<Plan> {
    const candidates = plan.planned.filter(({ contact }) => !plan.pending.finished.has(contact.deliveryId));
    const reserved = await this.deps.pending.reserve(
      engagementId,
      plan.pending,
      candidates.map(({ contact }) => ({
        contactId: contact.contactId,
        triggerId,
        deliveryId: contact.deliveryId,
        until: lastWindowEnd(contact.windows) + DELIVERY_GRACE_MS,
      })),
      now,
    );
    const planned = candidates.filter(({ contact }) => reserved.has(contact.contactId));
    const lost = plan.planned.filter(({ contact }) => !reserved.has(contact.contactId));
    if (lost.length === 0) return plan;
    return {
      planned,
      skipped: [...plan.skipped, ...lost.map(({ contact }) => ({ contactId: contact.contactId, reason: 'duplicate' as const }))],
      skippedCounts: { ...plan.skippedCounts, duplicate: plan.skippedCounts.duplicate + lost.length },
    };
  }

  private async plan(
    engagement: EngagementConfig,
    queue: QueueConfig,
    triggerId: string,
    contacts: readonly TriggerContact[],
    now: number,
  ): Promise<Plan & { pending: PendingSnapshot }> {
    const needsLedger = engagement.frequencyLimits.perDay !== undefined || engagement.frequencyLimits.perWeek !== undefined;
    const [dnc, pending, recent] = await Promise.all([
      this.deps.doNotContact.keys(),
      this.deps.pending.byEngagement(engagement.id, now),
      needsLedger ? this.deps.ledger.recent([...new Set(contacts.map((c) => c.contact.contactId))], now) : new Map<string, number[]>(),
    ]);
    const plan = planDeliveries({
      engagement,
      queue,
      triggerId,
      contacts,
      now,
      state: {
        isDoNotContact: (key) => dnc.has(key),
        recentEngagements: (id) => recent.get(id) ?? [],
        pendingTrigger: (id) => pending.pending.get(id),
      },
    });
    return { ...plan, pending };
  }

  private bodyBudget(): Promise<number> {
    this.maxBodyBytes ??= maxBodyBytesFor(this.deps.sender).catch((error: unknown) => {
      this.maxBodyBytes = undefined;
      throw error;
    });
    return this.maxBodyBytes;
  }
}

function firstWindowStart(plan: Plan): string | null {
  let first: string | null = null;
  for (const { contact } of plan.planned) {
    const start = contact.windows[0]?.start;
    if (start !== undefined && (first === null || start < first)) first = start;
  }
  return first;
}
