import { randomUUID } from 'node:crypto';
import { DefaultAzureCredential } from '@azure/identity';
import type { ServiceBusClient, ServiceBusSender } from '@azure/service-bus';
import { MemoryStorage } from '@microsoft/agents-hosting';
import { setAgentLegRuntime } from './agentLeg/agentLegRuntime.js';
import { loadAgentLegSettings } from './agentLeg/agentLegSettings.js';
import { TableConversationStorage } from './store/agentLeg/tableConversationStorage.js';
import { createServiceBusClient } from './bus/serviceBusClient.js';
import type { DialerPort } from './dialers/dialerPort.js';
import { Dynamics365Dialer } from './dialers/dynamics365/dynamics365Dialer.js';
import { TableDeliveryRefStore } from './store/dynamics365/tableDeliveryRefStore.js';
import { RealTimeClock } from './dialers/simulator/realTimeClock.js';
import { parseCallProfile } from './dialers/simulator/callProfile.js';
import { TelephonySimulator } from './dialers/simulator/telephonySimulator.js';
import { DeliveryStore } from './store/dispatch/deliveryStore.js';
import type { StatusDeps } from './dispatch/engagementStatus.js';
import { OutcomeStore } from './store/dispatch/outcomeStore.js';
import { PacingStateStore } from './store/dispatch/pacingStateStore.js';
import { recordOutcome, type OutcomeDeps } from './dispatch/recordOutcome.js';
import { RecentOutcomes } from './dispatch/recentOutcomes.js';
import { RejectedMessageStore } from './store/dispatch/rejectedMessageStore.js';
import { OUTCOME_LOOKBACK_MS, type DialerInsight, type PacingTickDeps } from './dispatch/runPacingTick.js';
import { loadEngagementFile, type EngagementCatalog } from './engagement/loadEngagementFile.js';
import { UserError, ensureError } from './errors.js';
import { IntakeService } from './intake/intakeService.js';
import { GraphPresence } from './presence/graphPresence.js';
import { GraphQueueMembers } from './presence/graphQueueMembers.js';
import { PresenceQueueCapacity } from './presence/presenceQueueCapacity.js';
import type { PresencePort, QueueMembersPort } from './presence/presencePort.js';
import { loadSettings, type Settings } from './settings/settings.js';
import { DoNotContactStore } from './store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from './store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from './store/contacts/pendingContactStore.js';
import { Tables } from './store/tables.js';

/**
 * The composition root: every adapter the functions use, built once per worker process from the
 * validated settings. Functions hold no other state between invocations (the simulator's calls are
 * the exception by nature: it is the telephone network of a local run).
 */
export interface Runtime {
  readonly settings: Settings;
  readonly catalog: EngagementCatalog;
  readonly tables: Tables;
  readonly serviceBus: ServiceBusClient;
  readonly contactBatchesSender: ServiceBusSender;
  readonly doNotContact: DoNotContactStore;
  readonly ledger: FrequencyLedgerStore;
  readonly pending: PendingContactStore;
  readonly intake: IntakeService;
  readonly maxEvents: number;
  readonly maxPageSize: number;
  readonly deliveries: DeliveryStore;
  readonly outcomes: OutcomeStore;
  readonly rejected: RejectedMessageStore;
  readonly stateStore: PacingStateStore;
  readonly dialer: DialerPort & DialerInsight;
  readonly presence: PresencePort;
  readonly outcomeDeps: OutcomeDeps;
  readonly statusDeps: StatusDeps;
  readonly tickDeps: PacingTickDeps;
  /**
   * The app's clock: the wall clock, or the simulator's when it runs faster than real time
   * (SIMULATOR_TIME_SCALE), so planning, pacing and outcomes all live in the simulated day.
   */
  readonly clock: () => number;
  close(): Promise<void>;
}

export async function createRuntime(settings: Settings, log: (line: string) => void = (line) => console.log(line)): Promise<Runtime> {
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
  const simulatorClock = settings.DIALER_BACKEND === 'simulator' ? new RealTimeClock({ scale: settings.SIMULATOR_TIME_SCALE }) : undefined;
  const clock = (): number => simulatorClock?.now() ?? Date.now();
  const doNotContact = new DoNotContactStore(tables);
  const ledger = new FrequencyLedgerStore(tables, settings.STORE_READ_CONCURRENCY);
  const pending = new PendingContactStore(tables);
  const intake = new IntakeService({ catalog, doNotContact, ledger, pending, sender: contactBatchesSender, batchMaxContacts: settings.BATCH_MAX_CONTACTS, clock });
  const deliveries = new DeliveryStore(tables);
  const outcomes = new OutcomeStore(tables, clock);
  const stateStore = new PacingStateStore(tables, `${process.env['WEBSITE_INSTANCE_ID'] ?? 'local'}-${randomUUID()}`);
  const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, clock };
  const back = createBackEnd(settings, catalog, tables, outcomeDeps, simulatorClock, log);
  const tickDeps: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
    stateStore,
    pending,
    doNotContact,
    ledger,
    dialer: back.dialer,
    presence: back.presence,
    ...(back.queueMembers === undefined ? {} : { queueMembers: back.queueMembers }),
    leaseMs: settings.PACING_LEASE_SECONDS * 1000,
    log,
  };
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
    deliveries,
    outcomes,
    rejected: new RejectedMessageStore(tables),
    stateStore,
    dialer: back.dialer,
    presence: back.presence,
    outcomeDeps,
    statusDeps: { deliveries, outcomes, stateStore },
    tickDeps,
    clock,
    async close() {
      back.close();
      await stateStore.releaseLease().catch(() => undefined);
      await serviceBus.close();
    },
  };
}

interface BackEnd {
  readonly dialer: DialerPort & DialerInsight;
  readonly presence: PresencePort;
  readonly queueMembers: QueueMembersPort | undefined;
  close(): void;
}

function createBackEnd(
  settings: Settings,
  catalog: EngagementCatalog,
  tables: Tables,
  outcomeDeps: OutcomeDeps,
  clock: RealTimeClock | undefined,
  log: (line: string) => void,
): BackEnd {
  const presenceSource = settings.PRESENCE_SOURCE ?? (settings.DIALER_BACKEND === 'simulator' ? 'simulator' : 'graph');
  const credential = presenceSource === 'graph' || settings.DIALER_BACKEND === 'dynamics365' ? new DefaultAzureCredential() : undefined;
  const graph = credential === undefined ? undefined : { presence: new GraphPresence({ credential }), members: new GraphQueueMembers({ credential }) };
  if (settings.DIALER_BACKEND === 'dynamics365') {
    const dialer = new Dynamics365Dialer({
      orgUrl: settings.DATAVERSE_URL ?? '',
      credential: credential ?? new DefaultAzureCredential(),
      apiVersion: settings.DATAVERSE_API_VERSION,
      useBulk: settings.DYNAMICS_USE_BULK,
      refStore: new TableDeliveryRefStore(tables),
      onWarning: log,
    });
    if (graph === undefined) throw new UserError('InvalidSettings', 'the dynamics365 back-end needs Microsoft Graph presence');
    return { dialer, presence: graph.presence, queueMembers: graph.members, close: () => undefined };
  }
  if (clock === undefined) throw new Error('the simulator back-end needs its clock');
  const simulator = new TelephonySimulator({
    seed: settings.SIMULATOR_SEED,
    clock,
    engagements: [...catalog.engagements.values()],
    queues: [...catalog.queues.values()],
    ...(settings.SIMULATOR_PROFILE === undefined ? {} : { profile: parseProfile(settings.SIMULATOR_PROFILE) }),
  });
  // The simulator is the telephone network: its outcomes go where Dynamics 365's webhook would send them.
  simulator.onCallEvent((event) => {
    recordOutcome(outcomeDeps, event).catch((error: unknown) => log(`recording a simulated outcome failed: ${ensureError(error).message}`));
  });
  return {
    dialer: simulator,
    presence: graph?.presence ?? simulator,
    queueMembers: graph?.members,
    close: () => {
      simulator.close();
      clock.stop();
    },
  };
}

/** The simulator profile setting, validated here so a bad value fails start-up naming the setting. */
function parseProfile(json: string): ReturnType<typeof parseCallProfile> {
  try {
    return parseCallProfile(JSON.parse(json));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('InvalidSettings', `SIMULATOR_PROFILE is not valid JSON: ${(error as Error).message}`);
  }
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

/**
 * Gives the agent leg (POST /api/messages) its settings and ports from the same runtime: engagements
 * from the catalogue, hand-off capacity from presence, outcomes into the same recorder the dialers
 * feed, conversation state in Table Storage (in memory with the simulator, whose calls live in memory too).
 */
export function installAgentLegRuntime(): void {
  setAgentLegRuntime(async () => {
    const runtime = await getRuntime();
    const capacity = new PresenceQueueCapacity(runtime.catalog, runtime.presence, runtime.tickDeps.queueMembers);
    return {
      settings: loadAgentLegSettings(process.env),
      ports: {
        engagements: { getEngagement: (id) => runtime.catalog.engagements.get(id) },
        capacity,
        outcomes: {
          async record(event) {
            const result = await recordOutcome(runtime.outcomeDeps, event);
            // An outcome for a delivery this app never dialed (a test call from Copilot Studio) is logged and dropped.
            if (result.status === 'unknown-delivery') console.warn(`agent leg outcome for unknown delivery ${event.deliveryId} of ${event.engagementId} ignored`);
            return result.status === 'duplicate' ? 'duplicate' : 'recorded';
          },
        },
        storage: runtime.settings.DIALER_BACKEND === 'simulator' ? new MemoryStorage() : new TableConversationStorage(runtime.tables),
        now: () => new Date(runtime.clock()),
      },
    };
  });
}

/** Closes connections and timers (local host shutdown, tests). */
export async function disposeRuntime(): Promise<void> {
  const runtime = current;
  current = undefined;
  if (runtime === undefined) return;
  const r = await runtime.catch(() => undefined);
  await r?.close();
}
