import { createHash } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { PacingDecision } from '../../pacing/pacingDecision.js';
import { emptyPacingState, parsePacingState, setOwn, type PacingState } from '../../pacing/pacingState.js';
import { MAX_TRANSACTION_ACTIONS, tableErrorStatus, type Tables } from '../tables.js';

export const PACING_TABLE = 'Pacing';
const PARTITION = 'pacing';
/** Where a version before per-engagement rows kept the whole state. */
const LEGACY_STATE_ROW = 'state';
const STATE_PREFIX = 'state|';
const CURSOR_PREFIX = 'cursor|';
/** Row keys may not hold slashes, back-slashes, # or ?: queue names are free text. */
const rowKeyOf = (prefix: string, name: string): string => `${prefix}${encodeURIComponent(name)}`;
const DECISIONS_PREFIX = 'decisions|';
const decisionsRow = (engagementId: string) => `${DECISIONS_PREFIX}${engagementId}`;
/** Decisions kept per engagement for the status API. */
export const RECENT_DECISIONS = 10;

export interface StoredPacingState {
  readonly state: PacingState;
  /**
   * What `save` is conditional on: the etag (and a digest of the content) of each row read, as one
   * opaque string; undefined when no row was read.
   */
  readonly etag: string | undefined;
  /** The recent decisions of the engagements read (most recent first), for {@link PacingStateStore.save} to append to. */
  readonly decisions: ReadonlyMap<string, readonly PacingDecision[]>;
}

/** Which rows to read: the engagements' states and the queues' cursors (everything when omitted). */
export interface PacingStateScope {
  readonly engagements: readonly string[];
  readonly queues: readonly string[];
}

interface RowVersion {
  readonly etag: string;
  readonly digest: string;
}

const digestOf = (json: string): string => createHash('sha256').update(json).digest('base64url').slice(0, 16);

/**
 * Pacing's memory between ticks: each engagement's state in a row of its own (`state|<engagement>`)
 * and each queue's round-robin cursors in another (`cursor|<queue>`), plus the recent decisions.
 * A save writes only the rows whose content changed, in one transaction conditional on each row's
 * etag, so the instance pacing one group of engagements and the one pacing another never conflict,
 * while an operator's pause and a tick of the same engagement still do (exactly one wins). A state
 * saved by an earlier version as one `state` row is read as the default for rows not yet written.
 */
export class PacingStateStore {
  /** The state an earlier version kept in one row: nothing writes it any more, so it is read once per process. */
  private legacy: Promise<PacingState> | undefined;
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(PACING_TABLE);
  }

  async load(scope?: PacingStateScope): Promise<StoredPacingState> {
    const client = await this.client();
    this.legacy ??= this.legacyState(client);
    this.legacy.catch(() => (this.legacy = undefined));
    const legacy = await this.legacy;
    const versions: Record<string, RowVersion> = {};
    const engagements: PacingState['engagements'] = {};
    const cursors: PacingState['cursors'] = {};
    const wantedEngagements = scope === undefined ? undefined : new Set(scope.engagements);
    const wantedQueues = scope === undefined ? undefined : new Set(scope.queues);
    for (const [id, value] of Object.entries(legacy.engagements)) if (wantedEngagements?.has(id) ?? true) setOwn(engagements, id, value);
    for (const [queue, value] of Object.entries(legacy.cursors)) if (wantedQueues?.has(queue) ?? true) setOwn(cursors, queue, value);
    const decisions = new Map<string, PacingDecision[]>();
    const rows = client.listEntities<{ value?: string; decisions?: string }>({
      queryOptions: {
        filter: `PartitionKey eq '${PARTITION}' and ((RowKey ge 'cursor|' and RowKey lt 'cursor}') or (RowKey ge 'decisions|' and RowKey lt 'decisions}') or (RowKey ge 'state|' and RowKey lt 'state}'))`,
      },
    });
    const parsed: { engagements: Record<string, unknown>; cursors: Record<string, unknown> } = { engagements: {}, cursors: {} };
    for await (const row of rows) {
      const rowKey = row.rowKey ?? '';
      if (rowKey.startsWith(DECISIONS_PREFIX)) {
        const id = rowKey.slice(DECISIONS_PREFIX.length);
        if ((wantedEngagements?.has(id) ?? true) && row.decisions !== undefined) decisions.set(id, JSON.parse(row.decisions) as PacingDecision[]);
        continue;
      }
      const isState = rowKey.startsWith(STATE_PREFIX);
      if (!isState && !rowKey.startsWith(CURSOR_PREFIX)) continue;
      const name = decodeURIComponent(rowKey.slice((isState ? STATE_PREFIX : CURSOR_PREFIX).length));
      if (!((isState ? wantedEngagements : wantedQueues)?.has(name) ?? true)) continue;
      const value = row.value ?? 'null';
      setOwn(isState ? parsed.engagements : parsed.cursors, name, JSON.parse(value));
      if (row.etag !== undefined) versions[rowKey] = { etag: row.etag, digest: digestOf(value) };
    }
    const fromRows = parsePacingState({ version: 1, ...parsed }, 'stored pacing state');
    for (const [id, value] of Object.entries(fromRows.engagements)) setOwn(engagements, id, value);
    for (const [queue, value] of Object.entries(fromRows.cursors)) setOwn(cursors, queue, value);
    return { state: { version: 1, engagements, cursors }, etag: Object.keys(versions).length === 0 ? undefined : JSON.stringify(versions), decisions };
  }

  private async legacyState(client: TableClient): Promise<PacingState> {
    try {
      const entity = await client.getEntity<{ state: string }>(PARTITION, LEGACY_STATE_ROW);
      return parsePacingState(JSON.parse(entity.state), 'stored pacing state');
    } catch (error) {
      if (tableErrorStatus(error) === 404) return emptyPacingState();
      throw error;
    }
  }

  /**
   * Saves the rows of `state` that differ from what `etag` read, if none of them changed since;
   * returns false otherwise (nothing is written). A row `etag` did not read is created, and refused
   * if another instance created it first. `append` adds decisions to the recent ones `load` read, in the
   * same transaction (written only when the state is).
   */
  async save(
    state: PacingState,
    etag: string | undefined,
    append?: { readonly decisions: readonly PacingDecision[]; readonly previous: ReadonlyMap<string, readonly PacingDecision[]> },
  ): Promise<boolean> {
    const client = await this.client();
    const versions = etag === undefined ? {} : (JSON.parse(etag) as Record<string, RowVersion>);
    const actions: TransactionAction[] = [];
    const rows: [string, unknown][] = [
      ...Object.entries(state.engagements).map(([id, value]) => [rowKeyOf(STATE_PREFIX, id), value] as [string, unknown]),
      ...Object.entries(state.cursors).map(([queue, value]) => [rowKeyOf(CURSOR_PREFIX, queue), value] as [string, unknown]),
    ];
    for (const [rowKey, value] of rows) {
      const json = JSON.stringify(value);
      const version = Object.hasOwn(versions, rowKey) ? versions[rowKey] : undefined;
      if (version?.digest === digestOf(json)) continue;
      const entity = { partitionKey: PARTITION, rowKey, value: json };
      actions.push(version === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag: version.etag }]);
    }
    for (const [engagementId, decisions] of groupDecisions(append?.decisions ?? [])) {
      const kept = [...decisions, ...(append?.previous.get(engagementId) ?? [])].slice(0, RECENT_DECISIONS);
      actions.push(['upsert', { partitionKey: PARTITION, rowKey: decisionsRow(engagementId), decisions: JSON.stringify(kept) }, 'Replace']);
    }
    if (actions.length === 0) return true;
    try {
      // One transaction holds 100 rows: a group of engagements larger than that saves in parts.
      for (let i = 0; i < actions.length; i += MAX_TRANSACTION_ACTIONS) await client.submitTransaction(actions.slice(i, i + MAX_TRANSACTION_ACTIONS));
      return true;
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status === 409 || status === 412) return false;
      throw error;
    }
  }

  /** Most recent first. */
  async decisions(engagementId: string): Promise<PacingDecision[]> {
    const client = await this.client();
    try {
      const entity = await client.getEntity<{ decisions: string }>(PARTITION, decisionsRow(engagementId));
      return JSON.parse(entity.decisions) as PacingDecision[];
    } catch (error) {
      if (tableErrorStatus(error) === 404) return [];
      throw error;
    }
  }
}

/** Decisions by engagement, most recent first (a tick gives one per engagement; later ones go first). */
function groupDecisions(decisions: readonly PacingDecision[]): Map<string, PacingDecision[]> {
  const byEngagement = new Map<string, PacingDecision[]>();
  for (const decision of decisions) byEngagement.set(decision.engagementId, [decision, ...(byEngagement.get(decision.engagementId) ?? [])]);
  return byEngagement;
}
