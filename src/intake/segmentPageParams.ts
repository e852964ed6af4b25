import { z } from 'zod';

/** The query string of a segment-members page; `page` arrives as text, hence the coercion. */
export const segmentPageParamsSchema = z.object({
  segmentId: z.string().trim().min(1).max(128),
  exportRunId: z.string().trim().min(1).max(128),
  page: z.coerce.number().int().min(0),
});
export type SegmentPageParams = z.infer<typeof segmentPageParamsSchema>;
