import { createHash } from 'node:crypto';
import type { ServiceBusSender } from '@azure/service-bus';
import { buildContactBatches, maxBodyBytesFor, publishContactBatches } from '../bus/publishContactBatches.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { EngagementConfig, QueueConfig } from '../engagement/engagementSchema.js';
import { UserError } from '../errors.js';
import { checkPhones, doNotContactKeysFor, planDeliveries, SKIP_REASONS, type Plan, type SkipReason, type TriggerContact } from '../planning/planDeliveries.js';
import type { AcceptedTriggerStore } from '../store/contacts/acceptedTriggerStore.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { DELIVERY_GRACE_MS, lastWindowEnd } from '../pacing/nextCallable.js';
import { slicesOf } from './slicesOf.js';

export interface IntakeDeps {
  readonly catalog: EngagementCatalog;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  readonly pending: PendingContactStore;
  readonly sender: ServiceBusSender;
  readonly batchMaxContacts: number;
  /** Finished triggers: a retry or replay answers from here. Without it, a retry is planned and reserved again (same outcome, more work). */
  readonly acceptedTriggers?: AcceptedTriggerStore<AcceptedTrigger>;
  readonly clock?: () => number;
}

/** Batches of contacts planned, reserved and published at a time: memory follows this, not the page. */
const SLICE_BATCHES = 10;

/** A trigger as intake sees it: where it came from and its contacts in order. */
export interface Trigger {
  /** `segment:<segmentId>/<exportRunId>/<page>` or `events:<hash of the event ids>`. */
  readonly sourceKey: string;
  /**
   * The contacts in order: an array, or a stream that is pulled one slice at a time (a segment page read
   * from its kept bytes, an export file's rows), so the trigger is never held whole.
   */
  readonly contacts: readonly TriggerContact[] | AsyncIterable<TriggerContact>;
  /**
   * Each distinct contact id and the position it first appears at, when known before the contacts are
   * read (a page's validating pass gives it): the frequency ledger is then read once for the whole
   * trigger, and a contact repeated in a later slice is recognised without collecting ids on the way.
   * Without it an array's is computed; a stream's ledger is read per slice.
   */
  readonly firstSeen?: ReadonlyMap<string, number>;
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
  /** True when the trigger had already been accepted: this is its original answer, and nothing was done again. */
  readonly replay?: boolean;
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

  /**
   * Plans, reserves and publishes the trigger in slices of {@link SLICE_BATCHES} batches, pulling each
   * slice from the trigger's contacts only when the previous one is published, so memory follows the
   * slice, not the trigger; only counts carry from slice to slice. Batch membership depends only on
   * positions, so slicing changes no message id. A failed publish gives back the slice's fresh
   * reservations and fails the call; earlier slices stay reserved by this trigger, and a retry publishes
   * them again (absorbed by duplicate detection).
   */
  async accept(engagementId: string, trigger: Trigger): Promise<AcceptedTrigger> {
    const { engagement, queue } = this.engagement(engagementId);
    const triggerId = triggerIdFor(engagement.id, trigger.sourceKey);
    const done = await this.deps.acceptedTriggers?.get(engagement.id, triggerId);
    if (done !== undefined) return { ...done, replay: true };
    const now = this.clock();
    const maxBodyBytes = await this.bodyBudget();
    const earlier = new EarlierSlices(trigger);
    const wholeTrigger = earlier.contactIds();
    const recentForTrigger = wholeTrigger === undefined ? undefined : await this.recentEngagements(engagement, wholeTrigger, now);
    const totals = new SliceTotals();
    let received = 0;
    for await (const slice of slicesOf(trigger.contacts, this.deps.batchMaxContacts * SLICE_BATCHES)) {
      const start = received;
      received += slice.length;
      const recent = recentForTrigger ?? (await this.recentEngagements(engagement, contactIdsOf(slice), now));
      const planned = await this.plan(engagement, queue, triggerId, slice, now, { firstIndex: start, recent, earlier: earlier.before(start) });
      earlier.passed(slice);
      const { plan, fresh } = await this.reserve(engagement.id, triggerId, planned, now);
      const published = await this.publish(engagement, triggerId, plan, fresh, maxBodyBytes, now);
      totals.add(plan, published);
    }
    const result: AcceptedTrigger = { triggerId, engagementId: engagement.id, received, ...totals.answer() };
    await this.deps.acceptedTriggers?.put(engagement.id, triggerId, result, now);
    return result;
  }

  /**
   * Publishes a reserved slice. On a failure, gives back what this slice reserved and did not publish,
   * so neither a retry nor another trigger finds those contacts held by nothing, and rethrows. Contacts
   * whose batch is out stay reserved: dispatch will store them, and the retry of this trigger (same id)
   * re-sends only what duplicate detection lets through.
   */
  private async publish(
    engagement: EngagementConfig,
    triggerId: string,
    plan: Plan,
    fresh: ReadonlySet<string>,
    maxBodyBytes: number,
    now: number,
  ): Promise<{ sent: number; scheduled: number }> {
    const batches = buildContactBatches({ engagement, triggerId, planned: plan.planned, maxContacts: this.deps.batchMaxContacts, maxBodyBytes, now });
    const out = new Set<string>();
    try {
      return await publishContactBatches(this.deps.sender, batches, (batchesOut) => {
        for (const b of batchesOut) for (const c of b.contacts) out.add(c.contactId);
      });
    } catch (error) {
      await this.deps.pending.unreserve(
        engagement.id,
        plan.planned
          .filter(({ contact }) => fresh.has(contact.contactId) && !out.has(contact.contactId))
          .map(({ contact }) => ({ contactId: contact.contactId, deliveryId: contact.deliveryId })),
      );
      throw error;
    }
  }

  async preview(engagementId: string, contacts: readonly TriggerContact[]): Promise<PreviewSummary> {
    const { engagement, queue } = this.engagement(engagementId);
    const now = this.clock();
    const plan = await this.plan(engagement, queue, 'preview', contacts, now, {
      recent: await this.recentEngagements(engagement, contactIdsOf(contacts), now),
    });
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
   * Reserves the planned contacts with conditional writes before anything is published, reading only
   * their own marks. A planned contact whose delivery already ended (a replayed trigger) or that another
   * trigger holds is skipped as a duplicate and changes nothing.
   */
  private async reserve(engagementId: string, triggerId: string, plan: Plan, now: number): Promise<{ plan: Plan; fresh: ReadonlySet<string> }> {
    const { reserved, fresh } = await this.deps.pending.reserve(
      engagementId,
      plan.planned.map(({ contact }) => ({
        contactId: contact.contactId,
        triggerId,
        deliveryId: contact.deliveryId,
        until: lastWindowEnd(contact.windows) + DELIVERY_GRACE_MS,
      })),
      now,
    );
    const lost = plan.planned.filter(({ contact }) => !reserved.has(contact.contactId));
    if (lost.length === 0) return { plan, fresh };
    return {
      fresh,
      plan: {
        planned: plan.planned.filter(({ contact }) => reserved.has(contact.contactId)),
        skipped: [...plan.skipped, ...lost.map(({ contact }) => ({ contactId: contact.contactId, reason: 'duplicate' as const }))],
        skippedCounts: { ...plan.skippedCounts, duplicate: plan.skippedCounts.duplicate + lost.length },
      },
    };
  }

  /** Recent engagements of the trigger's contacts, read once per trigger (the ledger scans by recent call volume for large pages). */
  private async recentEngagements(engagement: EngagementConfig, contactIds: Iterable<string>, now: number): Promise<ReadonlyMap<string, number[]>> {
    const needsLedger = engagement.frequencyLimits.perDay !== undefined || engagement.frequencyLimits.perWeek !== undefined;
    if (!needsLedger) return new Map();
    return this.deps.ledger.recent([...new Set(contactIds)], now);
  }

  /**
   * Plans contacts against the do-not-contact list (asked about exactly these contacts and their numbers)
   * and the frequency ledger. Contacts held by other triggers are found by the reservation that follows.
   */
  private async plan(
    engagement: EngagementConfig,
    queue: QueueConfig,
    triggerId: string,
    contacts: readonly TriggerContact[],
    now: number,
    context: { firstIndex?: number; recent: ReadonlyMap<string, number[]>; earlier?: (contactId: string) => boolean },
  ): Promise<Plan> {
    const phoneChecks = checkPhones(engagement, contacts);
    const dnc = await this.deps.doNotContact.matching(doNotContactKeysFor(contacts, phoneChecks));
    const { earlier, recent } = context;
    return planDeliveries({
      engagement,
      queue,
      triggerId,
      contacts,
      now,
      firstIndex: context.firstIndex ?? 0,
      phoneChecks,
      state: {
        isDoNotContact: (key) => dnc.has(key),
        recentEngagements: (id) => recent.get(id) ?? [],
        pendingTrigger: () => undefined,
        ...(earlier === undefined ? {} : { inEarlierSlice: earlier }),
      },
    });
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

function contactIdsOf(contacts: readonly TriggerContact[]): string[] {
  return contacts.map((c) => c.contact.contactId);
}

/**
 * Which contacts an earlier slice of the trigger had. From the trigger's first positions when known
 * (given, or computed from an array); otherwise the ids are collected slice by slice.
 */
class EarlierSlices {
  private readonly firstSeen: ReadonlyMap<string, number> | undefined;
  private readonly collected = new Set<string>();

  constructor(trigger: Trigger) {
    this.firstSeen = trigger.firstSeen ?? (Array.isArray(trigger.contacts) ? firstPositions(trigger.contacts as readonly TriggerContact[]) : undefined);
  }

  /** The trigger's distinct contact ids, when known before reading it. */
  contactIds(): Iterable<string> | undefined {
    return this.firstSeen?.keys();
  }

  /** Whether a contact was in a slice before position `start`. */
  before(start: number): (contactId: string) => boolean {
    const firstSeen = this.firstSeen;
    if (firstSeen === undefined) return (id) => this.collected.has(id);
    return (id) => (firstSeen.get(id) ?? start) < start;
  }

  /** A slice was planned: its contacts are earlier for the next. */
  passed(slice: readonly TriggerContact[]): void {
    if (this.firstSeen !== undefined) return;
    for (const { contact } of slice) this.collected.add(contact.contactId);
  }
}

function firstPositions(contacts: readonly TriggerContact[]): Map<string, number> {
  const first = new Map<string, number>();
  contacts.forEach(({ contact }, i) => {
    if (!first.has(contact.contactId)) first.set(contact.contactId, i);
  });
  return first;
}

/** What the answer needs, summed over the slices: counts and the first window. */
class SliceTotals {
  private readonly skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  private accepted = 0;
  private sent = 0;
  private scheduled = 0;
  private first: string | null = null;

  add(plan: Plan, published: { sent: number; scheduled: number }): void {
    this.accepted += plan.planned.length;
    this.sent += published.sent;
    this.scheduled += published.scheduled;
    for (const reason of SKIP_REASONS) this.skipped[reason] += plan.skippedCounts[reason];
    const sliceFirst = firstWindowStart(plan);
    if (sliceFirst !== null && (this.first === null || sliceFirst < this.first)) this.first = sliceFirst;
  }

  answer(): Omit<AcceptedTrigger, 'triggerId' | 'engagementId' | 'received'> {
    return {
      accepted: this.accepted,
      skipped: { ...this.skipped },
      batches: this.sent + this.scheduled,
      scheduledBatches: this.scheduled,
      firstWindowStart: this.first,
    };
  }
}
