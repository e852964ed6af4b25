import type { EngagementConfig } from '../../engagement/engagementSchema.js';
import { SystemError, UserError, ensureError } from '../../errors.js';
import type { ActionOutcome } from './dataverseClient.js';

/** The formatted-value annotation Dataverse adds to choice and lookup columns when asked (`Prefer: odata.include-annotations`). */
export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';

/** Reads one msdyn_proactive_engagement_config row by id (the Dynamics 365 dialer does it through its Dataverse client). */
export interface EngagementConfigReader {
  readEngagementConfig(configId: string): Promise<ActionOutcome>;
}

/** What the comparison of one engagement with its Dynamics 365 config found. */
export interface ConfigFindings {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

const DIAL_MODE_LABELS: Readonly<Record<string, EngagementConfig['dialMode']['mode']>> = {
  copilot: 'copilot',
  progressive: 'progressive',
  preview: 'preview',
  predictive: 'predictive',
};

/**
 * Compares an engagement of the file with the msdyn_proactive_engagement_config it names.
 *
 * - Dial mode differs: an error. Pacing decides how many calls to hand over, and to whom, by the dial
 *   mode (preview reserves a representative per call, predictive overdials, copilot needs no
 *   representative); Dynamics 365 dials by its own. With the two apart every decision is wrong.
 * - Primary queue or max calls per representative differ: a warning. The queue's name is a label here
 *   (the file lists the queue's people itself) and Dynamics 365 paces its own dialing by its own
 *   maximum; a difference makes pacing hand over too many or too few calls, not wrong ones.
 * - A column that cannot be read (a choice value without its label): a warning, not checked.
 */
export function compareEngagementConfig(engagement: EngagementConfig, row: unknown): ConfigFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const columns = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
  const where = `engagement ${engagement.id} (Dynamics 365 config ${engagement.dynamicsConfigId ?? ''})`;

  const modeLabel = label(columns, 'msdyn_dial_mode');
  const mode = modeLabel === undefined ? undefined : DIAL_MODE_LABELS[modeLabel.trim().toLowerCase()];
  if (mode === undefined) {
    warnings.push(`${where}: the dial mode in Dynamics 365 (${JSON.stringify(columns['msdyn_dial_mode'] ?? null)}) could not be read; not compared`);
  } else if (mode !== engagement.dialMode.mode) {
    errors.push(`${where}: dial mode is ${engagement.dialMode.mode} in the engagement file but ${modeLabel ?? ''} in Dynamics 365; make them the same`);
  }

  const queue = label(columns, 'msdyn_primary_queue') ?? label(columns, '_msdyn_primary_queue_value');
  if (queue === undefined) {
    warnings.push(`${where}: the primary queue in Dynamics 365 could not be read; not compared`);
  } else if (queue.trim().toLowerCase() !== engagement.routing.primaryQueue.trim().toLowerCase()) {
    warnings.push(`${where}: primary queue is ${engagement.routing.primaryQueue} in the engagement file but ${queue} in Dynamics 365`);
  }

  const fileMax = 'maxCallsPerRepresentative' in engagement.dialMode ? engagement.dialMode.maxCallsPerRepresentative : undefined;
  const d365Max = columns['msdyn_max_calls_per_representative'];
  if (fileMax !== undefined && typeof d365Max === 'number' && d365Max !== fileMax) {
    warnings.push(
      `${where}: max calls per representative is ${fileMax} in the engagement file but ${d365Max} in Dynamics 365; ` +
        `pacing hands over ${fileMax > d365Max ? 'more calls than Dynamics 365 places at once (they wait there)' : 'fewer calls than Dynamics 365 could place'}`,
    );
  }
  return { errors, warnings };
}

/**
 * Start-up check of the dynamics365 back-end: every engagement's config is read once (by
 * `dynamicsConfigId`) and compared with the file ({@link compareEngagementConfig}). Errors fail the start
 * with all of them listed (a UserError): a dial mode apart, a config Dynamics 365 does not have, an
 * engagement without a `dynamicsConfigId` (each of its deliveries would be refused), or Dataverse
 * refusing the caller. Warnings go to `warn`, as does a Dataverse that cannot be reached now
 * (throttled, faults, network): the calls will wait for it, and it may come back.
 */
export async function checkEngagementConfigs(
  engagements: Iterable<EngagementConfig>,
  reader: EngagementConfigReader,
  warn: (message: string) => void,
): Promise<void> {
  const errors: string[] = [];
  const reads = new Map<string, Promise<ActionOutcome>>();
  for (const engagement of engagements) {
    const configId = engagement.dynamicsConfigId;
    if (configId === undefined) {
      errors.push(`engagement ${engagement.id} has no dynamicsConfigId: with DIALER_BACKEND=dynamics365 Dynamics 365 would refuse each of its deliveries`);
      continue;
    }
    const key = configId.toLowerCase();
    let read = reads.get(key);
    if (read === undefined) {
      read = reader.readEngagementConfig(configId);
      // Settled here so a second engagement on the same config does not see an unhandled rejection.
      read.catch(() => undefined);
      reads.set(key, read);
    }
    let outcome: ActionOutcome;
    try {
      outcome = await read;
    } catch (thrown) {
      const error = ensureError(thrown);
      if (error instanceof SystemError && !error.retryable) {
        errors.push(`engagement ${engagement.id}: ${error.message}`);
      } else {
        warn(`engagement ${engagement.id}: its Dynamics 365 config ${configId} could not be read at start-up (not checked): ${error.message}`);
      }
      continue;
    }
    if (!outcome.ok) {
      if (outcome.status === 404) {
        errors.push(
          `engagement ${engagement.id}: Dynamics 365 has no msdyn_proactive_engagement_config ${configId} (HTTP 404${outcome.code === undefined ? '' : `, ${outcome.code}`}); check dynamicsConfigId`,
        );
      } else {
        warn(`engagement ${engagement.id}: reading its Dynamics 365 config ${configId} answered HTTP ${outcome.status}: ${outcome.message} (not checked)`);
      }
      continue;
    }
    const findings = compareEngagementConfig(engagement, outcome.body);
    errors.push(...findings.errors);
    for (const warning of findings.warnings) warn(warning);
  }
  if (errors.length > 0) {
    throw new UserError('InvalidSettings', `the engagement file does not match Dynamics 365:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
}

/** A column's text: its formatted value when Dataverse gave one (choices, lookups), else the value itself when it is text. */
function label(columns: Record<string, unknown>, column: string): string | undefined {
  const formatted = columns[`${column}${FORMATTED}`];
  if (typeof formatted === 'string' && formatted !== '') return formatted;
  const value = columns[column];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
