import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import { composeDispatch } from '../dispatch/composeDispatch.js';
import { ConsoleAssets } from './consoleAssets.js';
import type { CancelQueuedDeps, DoNotContactDeps, ManagementReadDeps, PauseDeps } from './managementHttp.js';

/**
 * The management capability: the operator console's API (overview, metrics, what-if, pause, resume,
 * cancel, do-not-contact) and its static files. It acts only through dispatch's stores and the
 * foundation's do-not-contact list, never beside them.
 */
export interface Management {
  readonly read: ManagementReadDeps;
  readonly pause: PauseDeps;
  readonly cancel: CancelQueuedDeps;
  readonly doNotContact: DoNotContactDeps;
  readonly assets: ConsoleAssets;
}

export async function composeManagement(context: CompositionContext): Promise<Composed<Management>> {
  const { catalog, clock, doNotContact, pending } = await context.use(composeFoundation);
  const dispatch = await context.use(composeDispatch);
  const firstCountry = [...catalog.engagements.values()][0]?.defaultCountry ?? 'US';
  return {
    value: {
      read: { catalog, status: dispatch.status, metrics: dispatch.metrics, clock },
      pause: { catalog, stateStore: dispatch.stateStore, clock },
      cancel: { catalog, deliveries: dispatch.deliveries, pending, journeyOutbox: dispatch.journeyOutbox, clock },
      doNotContact: { doNotContact, defaultCountry: firstCountry },
      assets: new ConsoleAssets(),
    },
  };
}
