import type { InvocationContext, TimerFunctionOptions } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import { composeJourneyOutcomes } from './composeJourneyOutcomes.js';
import { drainJourneyOutbox } from './drainJourneyOutbox.js';

/** Sends due journey outcomes to their custom triggers (DATAVERSE_URL); rows wait in the outbox otherwise. */
export const journeyOutboxFunction: TimerFunctionOptions = {
  schedule: '%JOURNEY_OUTBOX_SCHEDULE%',
  handler: async (_timer: unknown, context: InvocationContext) => {
    const { drain } = await appRegistry.use(composeJourneyOutcomes);
    if (drain === undefined) return;
    const summary = await drainJourneyOutbox(drain);
    if (summary.sent + summary.rescheduled + summary.failed > 0) context.log(`journey outbox: ${JSON.stringify(summary)}`);
  },
};
