import { z } from 'zod';
import { contactFields } from '../contacts/contactInput.js';

/** One journey-step trigger: the contact's fields flat beside the event's own ids, as Customer Insights posts them. */
export const journeyEventSchema = z.object({
  eventId: z.string().trim().min(1).max(128),
  journeyId: z.string().trim().min(1).max(128),
  ...contactFields,
});
export type JourneyEvent = z.infer<typeof journeyEventSchema>;
