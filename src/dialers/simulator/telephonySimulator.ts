import type { CallEvent } from '../../contacts/callEvent.js';
import type { CallResult } from '../../contacts/callResult.js';
import type { EngagementConfig, QueueConfig } from '../../engagement/engagementSchema.js';
import type { ActiveCalls } from '../../pacing/activeCalls.js';
import type { Availability, PresencePort } from '../../presence/presencePort.js';
import type { DialerPort, DialRequest, DialSubmission, HandedCall, Reconciliation } from '../dialerPort.js';
import { parseCallProfile, type CallProfile, type CallProfileInput, type Duration } from './callProfile.js';
import { deriveSeed, Random } from './random.js';
import type { SimClock, TimerId } from './simClock.js';

export interface TelephonySimulatorOptions {
  readonly seed: number;
  readonly clock: SimClock;
  readonly engagements: readonly EngagementConfig[];
  readonly queues: readonly QueueConfig[];
  /** Members of queues that name an Entra group instead of listing representatives. */
  readonly groupMembers?: ReadonlyMap<string, readonly string[]>;
  readonly profile?: CallProfileInput;
}

export type CallEventListener = (event: CallEvent) => void;

/** Time the simulated representatives spent, for occupancy. */
export interface RepresentativeStats {
  readonly representatives: number;
  /** Talk plus wrap-up on connected calls, calls in progress counted up to now. */
  readonly busyMs: number;
  /** Preview: reserved for a call that has not connected (countdown and ringing). */
  readonly reservedMs: number;
}

type Outcome = 'live' | 'machine' | 'busy' | 'invalid' | 'failed' | 'noAnswer';
type Stage = 'queued' | 'ringing' | 'withAgent' | 'waiting' | 'withRepresentative' | 'done';

/** Everything random about one call, drawn up front from the call's own stream. */
interface Fate {
  readonly outcome: Outcome;
  readonly ringMs: number;
  readonly handleMs: number;
  readonly patienceMs: number;
  readonly agentLegMs: number;
  readonly escalates: boolean;
  readonly botFails: boolean;
  /** Where in the agent leg the agent fails (0..1). */
  readonly botFailsAt: number;
}

interface RoutedEngagement {
  readonly config: EngagementConfig;
  readonly queues: readonly string[];
  readonly aiLed: boolean;
  readonly countdownMs: number;
}

interface SimCall {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly engagement: RoutedEngagement;
  readonly fate: Fate;
  stage: Stage;
  timer?: TimerId;
  representative?: Rep;
  waitSince?: number;
  ringSince?: number;
  deadline?: number;
  escalated?: boolean;
}

interface Rep {
  readonly id: string;
  readonly queues: ReadonlySet<string>;
  state: 'idle' | 'reserved' | 'busy';
  since: number;
  busyMs: number;
  reservedMs: number;
}

const SIP_CODES: Partial<Record<CallResult, number>> = { Busy: 486, InvalidAddress: 404, CallFailed: 503 };

/**
 * An embedded telephony back-end: a population of customers who answer (or not) per a seeded
 * profile, simulated representatives with presence, and the AI agent's leg for AI-led engagements.
 * The same engine runs on a virtual clock (tests, benchmarks: a day in a second) and on a real-time
 * clock (the local host's default dialer).
 *
 * Abandoned, as simulated: an answered customer nobody joined within `abandonAfterSeconds` (FTC TSR:
 * 2 s) is released with the information message, and any customer who hangs up while waiting for a
 * representative (their patience) is abandoned too. In AI-led engagements the agent joins at once,
 * so abandonment happens in the queue after a hand-off, measured from the escalation.
 */
export class TelephonySimulator implements DialerPort, PresencePort {
  readonly name = 'simulator' as const;
  private readonly profile: CallProfile;
  private readonly clock: SimClock;
  private readonly seed: number;
  private readonly engagements = new Map<string, RoutedEngagement>();
  private readonly reps = new Map<string, Rep>();
  private readonly repsByQueue = new Map<string, Rep[]>();
  /** Customers waiting for a representative, per queue, oldest first (Set keeps insertion order). */
  private readonly waiting = new Map<string, Set<SimCall>>();
  private readonly calls = new Map<string, { submission: DialSubmission; call?: SimCall; ended?: CallEvent }>();
  private readonly active = new Map<string, Set<SimCall>>();
  private readonly listeners = new Set<CallEventListener>();
  private refs = 0;

  constructor(options: TelephonySimulatorOptions) {
    this.profile = parseCallProfile(options.profile ?? {});
    this.clock = options.clock;
    this.seed = options.seed;
    const membership = new Map<string, Set<string>>();
    for (const queue of options.queues) {
      const members = queue.representatives?.map((r) => r.userId) ?? options.groupMembers?.get(queue.name) ?? [];
      for (const id of members) membership.set(id, (membership.get(id) ?? new Set<string>()).add(queue.name));
      this.waiting.set(queue.name, new Set());
      this.repsByQueue.set(queue.name, []);
    }
    for (const [id, queues] of membership) {
      const rep: Rep = { id, queues, state: 'idle', since: this.clock.now(), busyMs: 0, reservedMs: 0 };
      this.reps.set(id, rep);
      for (const q of queues) this.repsByQueue.get(q)?.push(rep);
    }
    for (const e of options.engagements) {
      const queues = [e.routing.primaryQueue, ...(e.routing.fallbackQueue === undefined ? [] : [e.routing.fallbackQueue])];
      // A manual start was accepted before the hand-over: no countdown then.
      const countdownMs = e.dialMode.mode === 'preview' && e.dialMode.start === 'automatic' ? e.dialMode.countdownSeconds * 1000 : 0;
      this.engagements.set(e.id, { config: e, queues, aiLed: e.type === 'ai-led', countdownMs });
    }
  }

  /** Subscribes to call outcomes; returns the unsubscribe function. */
  onCallEvent(listener: CallEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    return requests.map((r) => this.dialOne(r));
  }

  async cancel(deliveryIds: readonly string[]): Promise<void> {
    const ids = new Set(deliveryIds);
    for (const calls of this.active.values()) {
      for (const call of [...calls]) {
        if (call.stage !== 'queued' || !ids.has(call.deliveryId)) continue;
        if (call.timer !== undefined) this.clock.cancel(call.timer);
        if (call.representative !== undefined) this.release(call.representative);
        this.finish(call, 'Cancelled', {});
      }
    }
  }

  /** The simulator remembers every call it placed: a lost outcome is given again, a live call said to be in progress. */
  reconcile(calls: readonly HandedCall[]): Promise<Reconciliation[]> {
    return Promise.resolve(
      calls.map(({ deliveryId, attempt }): Reconciliation => {
        const known = this.calls.get(`${deliveryId}\u0000${attempt}`);
        if (known?.ended !== undefined) return { deliveryId, attempt, status: 'ended', event: known.ended };
        if (known?.call !== undefined) return { deliveryId, attempt, status: 'in-progress' };
        return { deliveryId, attempt, status: 'unknown' };
      }),
    );
  }

  async getAvailability(userIds: readonly string[]): Promise<Map<string, Availability>> {
    const out = new Map<string, Availability>();
    for (const id of userIds) {
      const rep = this.reps.get(id);
      out.set(id, rep === undefined ? 'PresenceUnknown' : rep.state === 'idle' ? 'Available' : 'Busy');
    }
    return out;
  }

  /** Free representatives of a queue, longest idle first: the list pacing takes as "available". */
  availableRepresentatives(queue: string): string[] {
    return (this.repsByQueue.get(queue) ?? [])
      .filter((r) => r.state === 'idle')
      .sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1))
      .map((r) => r.id);
  }

  /** Representatives of a queue known to the simulator (all signed in). */
  staffedRepresentatives(queue: string): number {
    return this.repsByQueue.get(queue)?.length ?? 0;
  }

  activeCalls(engagementId: string): ActiveCalls {
    let ringing = 0;
    let withAgent = 0;
    let waitingForRepresentative = 0;
    let withRepresentative = 0;
    const representativeIds: string[] = [];
    const ringingSince: number[] = [];
    for (const call of this.active.get(engagementId) ?? []) {
      if (call.stage === 'queued' || call.stage === 'ringing') {
        ringing++;
        ringingSince.push(call.ringSince ?? this.clock.now());
      } else if (call.stage === 'withAgent') withAgent++;
      else if (call.stage === 'waiting') waitingForRepresentative++;
      else if (call.stage === 'withRepresentative') withRepresentative++;
      if (call.representative !== undefined) representativeIds.push(call.representative.id);
    }
    return { ringing, withAgent, waitingForRepresentative, withRepresentative, representativeIds, ringingSince };
  }

  representativeStats(): RepresentativeStats {
    const now = this.clock.now();
    let busyMs = 0;
    let reservedMs = 0;
    for (const rep of this.reps.values()) {
      busyMs += rep.busyMs + (rep.state === 'busy' ? now - rep.since : 0);
      reservedMs += rep.reservedMs + (rep.state === 'reserved' ? now - rep.since : 0);
    }
    return { representatives: this.reps.size, busyMs, reservedMs };
  }

  /** Cancels every timer of calls still up (the host is shutting down); no events are emitted. */
  close(): void {
    for (const calls of this.active.values()) {
      for (const call of calls) if (call.timer !== undefined) this.clock.cancel(call.timer);
    }
  }

  private dialOne(request: DialRequest): DialSubmission {
    const key = `${request.deliveryId}\u0000${request.attempt}`;
    const known = this.calls.get(key);
    if (known !== undefined) return known.submission;
    const reject = (reason: string): DialSubmission => {
      const submission: DialSubmission = { deliveryId: request.deliveryId, status: 'rejected', reason };
      this.calls.set(key, { submission });
      return submission;
    };
    const engagement = this.engagements.get(request.engagementId);
    if (engagement === undefined) return reject(`engagement ${request.engagementId} is not known to the simulator`);
    if (request.contact.phones.length === 0) return reject('the contact has no phone number');
    let representative: Rep | undefined;
    if (engagement.config.dialMode.mode === 'preview') {
      if (request.representativeId === undefined) return reject('preview calls need the reserved representativeId');
      representative = this.reps.get(request.representativeId);
      if (representative === undefined || !engagement.queues.some((q) => representative?.queues.has(q))) {
        return reject(`representative ${request.representativeId} is not a member of the engagement's queues`);
      }
      if (representative.state !== 'idle') return reject(`representative ${request.representativeId} is not available`);
      this.setRepState(representative, 'reserved');
    }
    const call: SimCall = {
      deliveryId: request.deliveryId,
      attempt: request.attempt,
      engagement,
      fate: this.drawFate(key),
      stage: 'queued',
      ...(representative === undefined ? {} : { representative }),
    };
    const submission: DialSubmission = { deliveryId: request.deliveryId, status: 'accepted', backendRef: `sim-${++this.refs}` };
    this.calls.set(key, { submission, call });
    const calls = this.active.get(engagement.config.id) ?? new Set<SimCall>();
    calls.add(call);
    this.active.set(engagement.config.id, calls);
    this.at(call, this.profile.placementDelaySeconds * 1000 + engagement.countdownMs, () => this.place(call));
    return submission;
  }

  private drawFate(key: string): Fate {
    const rng = new Random(deriveSeed(this.seed, key));
    const p = this.profile;
    const u = rng.next();
    let outcome: Outcome = 'noAnswer';
    let edge = 0;
    for (const [share, o] of [
      [p.liveAnswer, 'live'],
      [p.answeringMachine, 'machine'],
      [p.busy, 'busy'],
      [p.invalidAddress, 'invalid'],
      [p.callFailed, 'failed'],
    ] as const) {
      edge += share;
      if (u < edge) {
        outcome = o;
        break;
      }
    }
    const ring: Duration =
      outcome === 'live' ? p.liveRingSeconds : outcome === 'machine' ? p.machineSeconds : outcome === 'noAnswer' ? p.noAnswerRingSeconds : p.rejectSeconds;
    const seconds = (d: Duration) => rng.logNormal(d.mean, d.sigma) * 1000;
    return {
      outcome,
      ringMs: seconds(ring),
      handleMs: seconds(p.handleSeconds),
      patienceMs: seconds(p.patienceSeconds),
      agentLegMs: seconds(p.agentLegSeconds),
      botFails: rng.next() < p.botFailure,
      escalates: rng.next() < p.escalation,
      botFailsAt: rng.next(),
    };
  }

  private place(call: SimCall): void {
    call.stage = 'ringing';
    call.ringSince = this.clock.now();
    this.at(call, call.fate.ringMs, () => this.ringEnded(call));
  }

  private ringEnded(call: SimCall): void {
    const { fate, engagement } = call;
    if (fate.outcome !== 'live') {
      if (call.representative !== undefined) this.release(call.representative);
      const result: CallResult =
        fate.outcome === 'machine'
          ? 'AnsweringMachine'
          : fate.outcome === 'busy'
            ? 'Busy'
            : fate.outcome === 'invalid'
              ? 'InvalidAddress'
              : fate.outcome === 'failed'
                ? 'CallFailed'
                : 'NoAnswer';
      const sipCode = SIP_CODES[result];
      this.finish(call, result, sipCode === undefined ? {} : { sipCode });
      return;
    }
    const connectMs = this.profile.connectSeconds * 1000;
    if (call.representative !== undefined) {
      // Preview: the representative is on the line before the customer answers.
      this.talk(call, call.representative, 0);
      return;
    }
    if (engagement.aiLed) {
      call.stage = 'withAgent';
      if (fate.botFails) {
        this.at(call, connectMs + fate.agentLegMs * fate.botFailsAt, () => this.finish(call, 'BotFailed', { escalated: false }));
      } else if (fate.escalates) {
        this.at(call, connectMs + fate.agentLegMs, () => {
          call.escalated = true;
          this.await(call, fate.patienceMs);
        });
      } else {
        this.at(call, connectMs + fate.agentLegMs, () =>
          this.finish(call, 'LiveAnswer', { escalated: false, handleSeconds: seconds(connectMs + fate.agentLegMs) }),
        );
      }
      return;
    }
    const limit = this.profile.abandonAfterSeconds === null ? Infinity : this.profile.abandonAfterSeconds * 1000;
    this.await(call, Math.min(limit, fate.patienceMs));
  }

  /** The customer waits for a representative until `giveUpMs` from now. */
  private await(call: SimCall, giveUpMs: number): void {
    const now = this.clock.now();
    call.stage = 'waiting';
    call.waitSince = now;
    call.deadline = now + giveUpMs;
    const rep = this.freeRepresentative(call.engagement.queues);
    if (rep !== undefined) {
      this.connect(call, rep);
      return;
    }
    // Waiting happens in the primary queue: the fallback was only tried when the call was routed.
    const primary = call.engagement.queues[0] ?? '';
    this.waiting.get(primary)?.add(call);
    this.at(call, giveUpMs, () => {
      this.waiting.get(primary)?.delete(call);
      this.finish(call, 'Abandoned', { waitSeconds: seconds(this.clock.now() - now), ...this.escalatedFlag(call) });
    });
  }

  private connect(call: SimCall, rep: Rep): void {
    if (call.timer !== undefined) this.clock.cancel(call.timer);
    for (const set of this.waiting.values()) set.delete(call);
    const connectMs = this.profile.connectSeconds * 1000;
    const waited = this.clock.now() - (call.waitSince ?? this.clock.now()) + connectMs;
    this.talk(call, rep, waited);
  }

  private talk(call: SimCall, rep: Rep, waitedMs: number): void {
    call.stage = 'withRepresentative';
    call.representative = rep;
    this.setRepState(rep, 'busy');
    const connectMs = call.engagement.config.dialMode.mode === 'preview' ? 0 : this.profile.connectSeconds * 1000;
    this.at(call, connectMs + call.fate.handleMs, () => {
      this.release(rep);
      this.finish(call, 'LiveAnswer', {
        representativeId: rep.id,
        waitSeconds: seconds(waitedMs),
        handleSeconds: seconds(call.fate.handleMs),
        ...this.escalatedFlag(call),
      });
    });
  }

  private escalatedFlag(call: SimCall): Pick<CallEvent, 'escalated'> {
    return call.engagement.aiLed ? { escalated: call.escalated === true } : {};
  }

  /** Longest-idle free representative of the first queue that has one (primary, then fallback). */
  private freeRepresentative(queues: readonly string[]): Rep | undefined {
    for (const queue of queues) {
      let best: Rep | undefined;
      for (const rep of this.repsByQueue.get(queue) ?? []) {
        if (rep.state !== 'idle') continue;
        if (best === undefined || rep.since < best.since || (rep.since === best.since && rep.id < best.id)) best = rep;
      }
      if (best !== undefined) return best;
    }
    return undefined;
  }

  /** A representative is free again: they take the longest-waiting customer of their queues who can still be reached in time. */
  private release(rep: Rep): void {
    this.setRepState(rep, 'idle');
    const now = this.clock.now();
    const connectMs = this.profile.connectSeconds * 1000;
    let next: SimCall | undefined;
    for (const queue of rep.queues) {
      for (const call of this.waiting.get(queue) ?? []) {
        if ((call.deadline ?? Infinity) < now + connectMs) continue;
        if (next === undefined || (call.waitSince ?? 0) < (next.waitSince ?? 0)) next = call;
        break;
      }
    }
    if (next !== undefined) this.connect(next, rep);
  }

  private setRepState(rep: Rep, state: Rep['state']): void {
    const now = this.clock.now();
    if (rep.state === 'busy') rep.busyMs += now - rep.since;
    if (rep.state === 'reserved') rep.reservedMs += now - rep.since;
    rep.state = state;
    rep.since = now;
  }

  private at(call: SimCall, delayMs: number, fn: () => void): void {
    call.timer = this.clock.schedule(this.clock.now() + delayMs, () => {
      call.timer = undefined;
      fn();
    });
  }

  private finish(call: SimCall, result: CallResult, extra: Partial<CallEvent>): void {
    call.stage = 'done';
    this.active.get(call.engagement.config.id)?.delete(call);
    const event: CallEvent = {
      deliveryId: call.deliveryId,
      attempt: call.attempt,
      engagementId: call.engagement.config.id,
      result,
      at: new Date(this.clock.now()).toISOString(),
      ...extra,
    };
    const known = this.calls.get(`${call.deliveryId}\u0000${call.attempt}`);
    if (known !== undefined) known.ended = event;
    for (const listener of [...this.listeners]) listener(event);
  }
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
