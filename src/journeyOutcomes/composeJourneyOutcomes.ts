import { DefaultAzureCredential } from '@azure/identity';
import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import { DataverseClient } from '../dialers/dynamics365/dataverseClient.js';
import { dataverseCredential } from '../dialers/dynamics365/dataverseCredential.js';
import { DEFAULT_RETRY_OPTIONS } from '../http/retryOptions.js';
import { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';
import type { JourneyOutboxDeps } from './drainJourneyOutbox.js';

/** The journey-outcome capability: the outbox drain, or nothing to drain with when DATAVERSE_URL is not set. */
export interface JourneyOutcomes {
  readonly drain: JourneyOutboxDeps | undefined;
}

/** One send's claim: longer than the client's whole retry budget, so a live send is never taken over. */
const CLAIM_MS = DEFAULT_RETRY_OPTIONS.maxTotalMs * 2;

export async function composeJourneyOutcomes(context: CompositionContext): Promise<Composed<JourneyOutcomes>> {
  const { settings, tables, log } = await context.use(composeFoundation);
  if (settings.DATAVERSE_URL === undefined) return { value: { drain: undefined } };
  const orgUrl = settings.DATAVERSE_URL.replace(/\/$/, '');
  const dataverse = new DataverseClient({
    orgUrl,
    // The dialer's choice: the local stand-in's signed tokens for its loopback URL, else the app's Entra identity.
    credential: dataverseCredential(orgUrl, settings.DATAVERSE_LOCAL_TOKEN_KEY, () => new DefaultAzureCredential()),
    retry: DEFAULT_RETRY_OPTIONS,
  });
  return {
    value: {
      drain: {
        outbox: new JourneyOutboxStore(tables),
        dataverse,
        // Outbox times are wall-clock: Retry-After and claims are real seconds even when the simulator runs faster.
        clock: Date.now,
        maxAttempts: settings.JOURNEY_OUTBOX_MAX_ATTEMPTS,
        claimMs: CLAIM_MS,
        batchSize: 200,
        log,
      },
    },
  };
}
