import { z } from 'zod';
import { CALL_RESULTS, type CallResult } from './callResult.js';

/**
 * An outcome for a delivery attempt, reported by the back-end (the simulator directly, Dynamics 365
 * through `POST /api/call-events`).
 */
export interface CallEvent {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly engagementId: string;
  readonly result: CallResult;
  /** When the call ended (ISO-8601). */
  readonly at: string;
  /** Seconds from the customer answering to a representative (or the agent) joining; abandoned calls included. */
  readonly waitSeconds?: number;
  readonly handleSeconds?: number;
  readonly representativeId?: string;
  /** AI-led: the agent escalated (handed off) the call to a representative. */
  readonly escalated?: boolean;
  /** Agent-leg disposition, when the agent captured one. */
  readonly disposition?: 'interested' | 'callback' | 'not-interested' | 'do-not-contact' | 'not-right-party' | 'voicemail';
  /** Callback time requested by the customer (ISO-8601), with disposition `callback`. */
  readonly callbackAt?: string;
  readonly sipCode?: number;
}

/**
 * Ids that become part of Table Storage keys and log lines: letters, digits and `. _ : -` only, so no
 * id can hold a character a key forbids (`/ \ # ?`, control characters), a lone surrogate, or a quote.
 */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const safeId = (max: number) => z.string().min(1).max(max).regex(SAFE_ID_PATTERN, 'expected letters, digits, ".", "_", ":" or "-"');

/** `CallEvent` where it crosses a boundary: the call-events API and stored outcome rows. */
export const callEventSchema = z.strictObject({
  deliveryId: safeId(128),
  attempt: z.int().min(1).max(100),
  engagementId: safeId(63),
  result: z.enum(CALL_RESULTS),
  at: z.iso.datetime({ offset: true }),
  waitSeconds: z.number().min(0).max(86_400).optional(),
  handleSeconds: z.number().min(0).max(86_400).optional(),
  representativeId: safeId(128).optional(),
  escalated: z.boolean().optional(),
  disposition: z.enum(['interested', 'callback', 'not-interested', 'do-not-contact', 'not-right-party', 'voicemail']).optional(),
  callbackAt: z.iso.datetime({ offset: true }).optional(),
  sipCode: z.int().min(100).max(699).optional(),
}) satisfies z.ZodType<CallEvent>;
