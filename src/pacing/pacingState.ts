import { z } from 'zod';
import { UserError, toFieldIssues } from '../errors.js';

export const PACING_STATUSES = ['running', 'throttled', 'paused', 'stopped'] as const;
export type PacingStatus = (typeof PACING_STATUSES)[number];

const isoInstant = z.iso.datetime({ offset: true });

const engagementPacingStateSchema = z.strictObject({
  status: z.enum(PACING_STATUSES),
  /** When the engagement entered `status`. */
  statusSince: isoInstant,
  reason: z.string().optional(),
  /**
   * A stop (agent failure policy) or a pause-until-restart (representative-led abandonment) that only
   * {@link restartEngagement} lifts; every other status is recomputed on each tick.
   */
  hold: z
    .strictObject({
      status: z.enum(['paused', 'stopped']),
      reason: z.string(),
      since: isoInstant,
      /** Set by an operator's pause ({@link pauseEngagement}), which {@link resumeEngagement} lifts. */
      byOperator: z.literal(true).optional(),
    })
    .optional(),
  /** Outcomes before this instant no longer count for the failure policy or holding rules (set on restart). */
  countingSince: isoInstant.optional(),
  /** Predictive: lines per available representative chosen in the last interval, and when. */
  predictive: z.strictObject({ rate: z.number().positive(), updatedAt: isoInstant }).optional(),
  /**
   * When the engagement last handed a UK (+44) number over, as far as a tick had saved it: Ofcom judges
   * its abandonment over 24 hours too, whichever instance paces it next.
   */
  lastUkDialAt: isoInstant.optional(),
});
export type EngagementPacingState = z.infer<typeof engagementPacingStateSchema>;

/**
 * Everything pacing remembers between ticks. Plain JSON: the shell stores it (per engagement rows and
 * the cursors) in Table Storage with an etag, one owner at a time.
 */
export const pacingStateSchema = z.strictObject({
  version: z.literal(1),
  engagements: z.record(z.string(), engagementPacingStateSchema),
  /**
   * Round-robin cursors: queue name -> priority rank -> the engagement id that is served first at the
   * next tick among equal-priority engagements on that queue.
   */
  cursors: z.record(z.string(), z.record(z.string(), z.string())),
});
export type PacingState = z.infer<typeof pacingStateSchema>;

export function emptyPacingState(): PacingState {
  return { version: 1, engagements: {}, cursors: {} };
}

/** Validates stored state at the boundary; a corrupt row is a precise error, never a silent reset. */
export function parsePacingState(value: unknown, source = 'pacing state'): PacingState {
  const result = pacingStateSchema.safeParse(value);
  if (!result.success) {
    const issues = toFieldIssues(result.error);
    throw new UserError('InvalidRequest', `${source} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return result.data;
}

/** Reads an own property of a JSON record (keys such as "__proto__" or "constructor" included). */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Sets an own property even for keys such as "__proto__", which plain assignment would not. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Lifts a stop or a pause-until-restart: the operator's "restart" action. Outcomes before `now` stop
 * counting for the failure policy and holding rules, otherwise the old failures would stop the
 * engagement again at the next tick. The predictive rate starts over from one line per representative.
 */
export function restartEngagement(state: PacingState, engagementId: string, now: Date): PacingState {
  const at = now.toISOString();
  const restarted: EngagementPacingState = { status: 'running', statusSince: at, countingSince: at };
  const engagements = { ...state.engagements };
  setOwn(engagements, engagementId, restarted);
  return { ...state, engagements };
}

/** What an operator's pause or resume did: "not allowed" is a value, not a throw. */
export type HoldTransition =
  | { readonly changed: true; readonly state: PacingState }
  /** Nothing to do: already paused by an operator (pause), or not held at all (resume). */
  | { readonly changed: false; readonly state: PacingState; readonly why: 'already-paused' | 'not-paused' }
  /** A stop or rule pause holds the engagement: only a restart lifts it, and a pause would hide its reason. */
  | { readonly changed: false; readonly state: PacingState; readonly why: 'held'; readonly hold: NonNullable<EngagementPacingState['hold']> };

/**
 * An operator's pause: the engagement places no new calls from the next tick until resumed; calls in
 * flight finish and queued deliveries stay queued. Unlike a stop, nothing is cancelled.
 */
export function pauseEngagement(state: PacingState, engagementId: string, reason: string, now: Date): HoldTransition {
  const current = ownEntry(state.engagements, engagementId);
  if (current?.hold !== undefined) {
    return current.hold.byOperator === true ? { changed: false, state, why: 'already-paused' } : { changed: false, state, why: 'held', hold: current.hold };
  }
  const at = now.toISOString();
  const paused: EngagementPacingState = {
    ...(current ?? { status: 'paused', statusSince: at }),
    hold: { status: 'paused', reason: `paused by an operator: ${reason}`, since: at, byOperator: true },
  };
  const engagements = { ...state.engagements };
  setOwn(engagements, engagementId, paused);
  return { changed: true, state: { ...state, engagements } };
}

/**
 * Lifts an operator's pause; the next tick recomputes the status. Rules and the failure policy keep
 * counting the outcomes they counted before (a restart is what starts them over).
 */
export function resumeEngagement(state: PacingState, engagementId: string): HoldTransition {
  const current = ownEntry(state.engagements, engagementId);
  if (current?.hold === undefined) return { changed: false, state, why: 'not-paused' };
  if (current.hold.byOperator !== true) return { changed: false, state, why: 'held', hold: current.hold };
  const { hold: _lifted, ...rest } = current;
  const engagements = { ...state.engagements };
  setOwn(engagements, engagementId, rest);
  return { changed: true, state: { ...state, engagements } };
}
