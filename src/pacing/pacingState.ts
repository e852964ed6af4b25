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
  hold: z.strictObject({ status: z.enum(['paused', 'stopped']), reason: z.string(), since: isoInstant }).optional(),
  /** Outcomes before this instant no longer count for the failure policy or holding rules (set on restart). */
  countingSince: isoInstant.optional(),
  /** Predictive: lines per available representative chosen in the last interval, and when. */
  predictive: z.strictObject({ rate: z.number().positive(), updatedAt: isoInstant }).optional(),
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
