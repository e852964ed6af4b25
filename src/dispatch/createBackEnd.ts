import { DefaultAzureCredential } from '@azure/identity';
import type { CallEvent } from '../contacts/callEvent.js';
import type { DialerPort } from '../dialers/dialerPort.js';
import { checkEngagementConfigs } from '../dialers/dynamics365/checkEngagementConfigs.js';
import { Dynamics365Dialer } from '../dialers/dynamics365/dynamics365Dialer.js';
import { TableDeliveryRefStore } from '../store/dynamics365/tableDeliveryRefStore.js';
import { TableThrottleStore } from '../store/dynamics365/tableThrottleStore.js';
import { dataverseCredential } from '../dialers/dynamics365/dataverseCredential.js';
import { parseCallProfile } from '../dialers/simulator/callProfile.js';
import { RealTimeClock } from '../dialers/simulator/realTimeClock.js';
import { TelephonySimulator } from '../dialers/simulator/telephonySimulator.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { ensureError, UserError } from '../errors.js';
import { GraphPresence } from '../presence/graphPresence.js';
import { GraphQueueMembers } from '../presence/graphQueueMembers.js';
import type { PresencePort, QueueMembersPort } from '../presence/presencePort.js';
import type { Settings } from '../settings/settings.js';
import type { Tables } from '../store/tables.js';
import type { DialerInsight } from './runPacingTick.js';

/** Who places the calls and who says which representatives are free. */
export interface BackEnd {
  readonly dialer: DialerPort & DialerInsight;
  readonly presence: PresencePort;
  readonly queueMembers: QueueMembersPort | undefined;
  /** Checks the back-end agrees with the engagement file before any call (Dynamics 365: the engagement configs); throws a UserError listing what does not. */
  readonly checkAtStart?: () => Promise<void>;
  close(): void;
}

export interface BackEndDeps {
  readonly settings: Settings;
  readonly catalog: EngagementCatalog;
  readonly tables: Tables;
  /** The app's simulated clock; present with the simulator back-end. */
  readonly simulatorClock: RealTimeClock | undefined;
  /** Where the simulator's call outcomes go (the same recorder the call-events function uses). */
  readonly record: (event: CallEvent) => Promise<unknown>;
  readonly log: (line: string) => void;
}

/** The dialer back-end of DIALER_BACKEND, with presence from PRESENCE_SOURCE. */
export function createBackEnd({ settings, catalog, tables, simulatorClock, record, log }: BackEndDeps): BackEnd {
  const presenceSource = settings.PRESENCE_SOURCE ?? (settings.DIALER_BACKEND === 'simulator' ? 'simulator' : 'graph');
  const credential = presenceSource === 'graph' || settings.DIALER_BACKEND === 'dynamics365' ? new DefaultAzureCredential() : undefined;
  const graph =
    credential === undefined || presenceSource !== 'graph'
      ? undefined
      : { presence: new GraphPresence({ credential }), members: new GraphQueueMembers({ credential }) };
  if (settings.DIALER_BACKEND === 'dynamics365') {
    const orgUrl = settings.DATAVERSE_URL ?? '';
    const dialer = new Dynamics365Dialer({
      orgUrl,
      credential: dataverseCredential(orgUrl, settings.DATAVERSE_LOCAL_TOKEN_KEY, () => credential ?? new DefaultAzureCredential()),
      apiVersion: settings.DATAVERSE_API_VERSION,
      useBulk: settings.DYNAMICS_USE_BULK,
      refStore: new TableDeliveryRefStore(tables),
      throttleStore: new TableThrottleStore(tables, orgUrl),
      onWarning: log,
    });
    const checkAtStart = () => checkEngagementConfigs(catalog.engagements.values(), dialer, (message) => log(`Dynamics 365 start-up check: ${message}`));
    if (graph !== undefined) return { dialer, presence: graph.presence, queueMembers: graph.members, checkAtStart, close: () => undefined };
    // Local runs against the stand-in: the simulator's representatives stand in for Graph presence.
    const peopleClock = simulatorClock ?? new RealTimeClock();
    const people = new TelephonySimulator({
      seed: settings.SIMULATOR_SEED,
      clock: peopleClock,
      engagements: [...catalog.engagements.values()],
      queues: [...catalog.queues.values()],
    });
    return {
      dialer,
      presence: people,
      queueMembers: undefined,
      checkAtStart,
      close: () => {
        people.close();
        if (simulatorClock === undefined) peopleClock.stop();
      },
    };
  }
  if (simulatorClock === undefined) throw new Error('the simulator back-end needs its clock');
  const simulator = new TelephonySimulator({
    seed: settings.SIMULATOR_SEED,
    clock: simulatorClock,
    engagements: [...catalog.engagements.values()],
    queues: [...catalog.queues.values()],
    ...(settings.SIMULATOR_PROFILE === undefined ? {} : { profile: parseProfile(settings.SIMULATOR_PROFILE) }),
  });
  // The simulator is the telephone network: its outcomes go where Dynamics 365's webhook would send them.
  simulator.onCallEvent((event) => {
    record(event).catch((error: unknown) => log(`recording a simulated outcome failed: ${ensureError(error).message}`));
  });
  return {
    dialer: simulator,
    presence: graph?.presence ?? simulator,
    queueMembers: graph?.members,
    close: () => simulator.close(),
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
