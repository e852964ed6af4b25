import type { ServiceBusClient, ServiceBusSender } from '@azure/service-bus';
import { createServiceBusClient } from './bus/serviceBusClient.js';
import { loadEngagementFile, type EngagementCatalog } from './engagement/loadEngagementFile.js';
import { IntakeService } from './intake/intakeService.js';
import { loadSettings, type Settings } from './settings/settings.js';
import { DoNotContactStore } from './store/doNotContactStore.js';
import { FrequencyLedger } from './store/frequencyLedger.js';
import { PendingContacts } from './store/pendingContacts.js';
import { Tables } from './store/tables.js';

/**
 * The composition root: every adapter the functions use, built once per worker process from the
 * validated settings. Functions hold no other state between invocations.
 */
export interface Runtime {
  readonly settings: Settings;
  readonly catalog: EngagementCatalog;
  readonly tables: Tables;
  readonly serviceBus: ServiceBusClient;
  readonly contactBatchesSender: ServiceBusSender;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedger;
  readonly pending: PendingContacts;
  readonly intake: IntakeService;
  readonly maxEvents: number;
  readonly maxPageSize: number;
}

export async function createRuntime(settings: Settings): Promise<Runtime> {
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
  const contactBatchesSender = serviceBus.createSender(settings.CONTACT_BATCHES_QUEUE);
  const doNotContact = new DoNotContactStore(tables);
  const ledger = new FrequencyLedger(tables, settings.STORE_READ_CONCURRENCY);
  const pending = new PendingContacts(tables);
  const intake = new IntakeService({ catalog, doNotContact, ledger, pending, sender: contactBatchesSender, batchMaxContacts: settings.BATCH_MAX_CONTACTS });
  return {
    settings,
    catalog,
    tables,
    serviceBus,
    contactBatchesSender,
    doNotContact,
    ledger,
    pending,
    intake,
    maxEvents: settings.INTAKE_MAX_EVENTS,
    maxPageSize: settings.INTAKE_MAX_PAGE_SIZE,
  };
}

let current: Promise<Runtime> | undefined;

/** The process-wide runtime, created on first use from the app settings (fails fast on bad settings). */
export function getRuntime(): Promise<Runtime> {
  current ??= createRuntime(loadSettings()).catch((error: unknown) => {
    current = undefined;
    throw error;
  });
  return current;
}

/** Closes connections (local host shutdown, tests). */
export async function disposeRuntime(): Promise<void> {
  const runtime = current;
  current = undefined;
  if (runtime === undefined) return;
  const r = await runtime.catch(() => undefined);
  await r?.serviceBus.close();
}
