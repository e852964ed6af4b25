import { z } from 'zod';
import { ianaZoneSchema } from '../engagement/engagementSchema.js';

/** Longest a single requested calling window may be. */
export const MAX_WINDOW_DAYS = 14;
const MAX_ATTRIBUTES = 50;
/**
 * Characters all of a contact's attributes may take as JSON. A planned contact is stored whole in one
 * Table Storage property (32K characters); attributes are the only part of it a sender can grow.
 */
export const MAX_ATTRIBUTES_CHARS = 16_000;

const phoneString = z.string().trim().min(3, 'expected a phone number').max(40, 'a phone number has at most 40 characters');

const instant = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 date-time with Z or an offset' });

function bothValid(w: { start: string; end: string }): boolean {
  return !Number.isNaN(Date.parse(w.start)) && !Number.isNaN(Date.parse(w.end));
}

export const requestedWindowSchema = z
  .object({ start: instant, end: instant })
  // Both refinements stay quiet when a bound is itself invalid: that bound already has its own issue.
  .refine((w) => !bothValid(w) || Date.parse(w.end) > Date.parse(w.start), { message: 'end must be after start', path: ['end'] })
  .refine((w) => !bothValid(w) || Date.parse(w.end) - Date.parse(w.start) <= MAX_WINDOW_DAYS * 86_400_000, {
    message: `a window may span at most ${MAX_WINDOW_DAYS} days`,
    path: ['end'],
  });

/**
 * A contact as Customer Insights sends it (journey event or segment member). Unknown fields are
 * ignored, not rejected: Customer Insights adds profile fields over time and they must not fail intake.
 */
export const contactFields = {
  contactId: z.string().trim().min(1).max(128),
  firstName: z.string().trim().max(100).optional(),
  lastName: z.string().trim().max(100).optional(),
  phones: z.object({ mobile: phoneString.optional(), business: phoneString.optional(), home: phoneString.optional() }).default({}),
  email: z.email().optional(),
  timeZone: ianaZoneSchema.optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, 'expected a BCP 47 language tag such as "en-US"')
    .optional(),
  attributes: z
    .record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean()]))
    .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, { message: `at most ${MAX_ATTRIBUTES} attributes` })
    .refine((a) => JSON.stringify(a).length <= MAX_ATTRIBUTES_CHARS, { message: `attributes may take at most ${MAX_ATTRIBUTES_CHARS} characters in all` })
    .default({}),
  windows: z.array(requestedWindowSchema).min(1).max(20).optional(),
};

export const contactInputSchema = z.object(contactFields);
export type ContactInput = z.infer<typeof contactInputSchema>;
