import { z } from 'zod';

/**
 * The part of an incoming Bot Framework / Agents activity the agent leg relies on, checked at the HTTP
 * boundary before the SDK sees it, so a malformed body gets a 400 naming the field rather than a 500
 * from deep inside the SDK. Other members pass through untouched (the SDK reads them).
 */
const account = z.looseObject({ id: z.string().min(1).max(512), name: z.string().max(512).optional() });

export const inboundActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  id: z.string().max(512).optional(),
  channelId: z.string().min(1).max(128),
  serviceUrl: z.url().max(2048).optional(),
  from: account,
  recipient: account,
  conversation: z.looseObject({ id: z.string().min(1).max(1024) }),
  name: z.string().max(256).optional(),
  text: z.string().max(20_000).optional(),
  locale: z.string().max(32).optional(),
  value: z.unknown().optional(),
  channelData: z.unknown().optional(),
  deliveryMode: z.string().max(32).optional(),
});
export type InboundActivity = z.infer<typeof inboundActivitySchema>;
