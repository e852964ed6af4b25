import type { ServiceBusClient } from '@azure/service-bus';
import { createServiceBusClient } from '../bus/serviceBusClient.js';
import { RealTimeClock } from '../dialers/simulator/realTimeClock.js';
import { loadEngagementFile, type EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { setRequestBudget } from '../httpApi/requestBudget.js';
import type { Settings } from '../settings/settings.js';
import { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { Tables } from '../store/tables.js';
import type { Composed, CompositionContext } from './registry.js';

/**
 * What every capability builds on, composed once per worker process from the validated settings.
 * Functions hold no other state between invocations (the simulator's calls are the exception by
 * nature: it is the telephone network of a local run).
 */
export interface Foundation {
  readonly settings: Settings;
  readonly catalog: EngagementCatalog;
  readonly tables: Tables;
  readonly serviceBus: ServiceBusClient;
  /**
   * The app's clock: the wall clock, or the simulator's when it runs faster than real time
   * (SIMULATOR_TIME_SCALE), so planning, pacing and outcomes all live in the simulated day.
   */
  readonly clock: () => number;
  /** The simulated clock behind `clock` with the simulator back-end; its timers run the simulated calls. */
  readonly simulatorClock: RealTimeClock | undefined;
  /**
   * The contact stores intake plans against and dispatch writes to. One instance each, so an opt-out
   * recorded by dispatch is in the do-not-contact snapshot intake plans with at once, not a TTL later.
   */
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  readonly pending: PendingContactStore;
  readonly log: (line: string) => void;
}

/** Loads the engagement file (an invalid one fails here, naming every problem) and opens the shared clients. */
export async function composeFoundation(context: CompositionContext): Promise<Composed<Foundation>> {
  const settings = context.settings();
  setRequestBudget(settings.REQUEST_DEPENDENCY_BUDGET_SECONDS * 1000);
  const catalog = await loadEngagementFile(settings.ENGAGEMENTS_FILE);
  const tables = new Tables(
    settings.AzureWebJobsStorage !== undefined
      ? { connectionString: settings.AzureWebJobsStorage }
      : { tableServiceUri: settings.AzureWebJobsStorage__tableServiceUri ?? '' },
    settings.TABLE_PREFIX,
  );
  const serviceBus = createServiceBusClient(
    settings.ServiceBusConnection !== undefined
      ? { connectionString: settings.ServiceBusConnection }
      : { fullyQualifiedNamespace: settings.ServiceBusConnection__fullyQualifiedNamespace ?? '' },
  );
  const simulatorClock = settings.DIALER_BACKEND === 'simulator' ? new RealTimeClock({ scale: settings.SIMULATOR_TIME_SCALE }) : undefined;
  const clock = (): number => simulatorClock?.now() ?? Date.now();
  return {
    value: {
      settings,
      catalog,
      tables,
      serviceBus,
      clock,
      simulatorClock,
      doNotContact: new DoNotContactStore(tables, undefined, clock, settings.DNC_HASH_KEY),
      ledger: new FrequencyLedgerStore(tables, settings.STORE_READ_CONCURRENCY),
      pending: new PendingContactStore(tables),
      log: (line) => console.log(line),
    },
    async close() {
      simulatorClock?.stop();
      await serviceBus.close();
    },
  };
}
