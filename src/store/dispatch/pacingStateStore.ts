import type { TableClient } from '@azure/data-tables';
import type { PacingDecision } from '../../pacing/pacingDecision.js';
import { emptyPacingState, parsePacingState, type PacingState } from '../../pacing/pacingState.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const PACING_TABLE = 'Pacing';
const PARTITION = 'pacing';
const STATE_ROW = 'state';
const LEASE_ROW = 'lease';
const decisionsRow = (engagementId: string) => `decisions|${engagementId}`;
/** Decisions kept per engagement for the status API. */
export const RECENT_DECISIONS = 10;

export interface StoredPacingState {
  readonly state: PacingState;
  readonly etag: string | undefined;
}

/**
 * Pacing's memory between ticks (the JSON state, recent decisions) and the lease that makes one tick
 * owner at a time: Functions runs timer triggers as singletons, and the lease keeps that true for
 * anything else that drives pacing (the local host, a second app against the same storage).
 */
export class PacingStateStore {
  constructor(
    private readonly tables: Tables,
    private readonly owner: string,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(PACING_TABLE);
  }

  /**
   * Takes or renews the lease for `durationMs`. Returns false when another owner holds an unexpired
   * lease or won the race to take it.
   */
  async acquireLease(now: number, durationMs: number): Promise<boolean> {
    const client = await this.client();
    const entity = { partitionKey: PARTITION, rowKey: LEASE_ROW, owner: this.owner, expiresAt: now + durationMs };
    try {
      const current = await client.getEntity<{ owner: string; expiresAt: number }>(PARTITION, LEASE_ROW);
      if (current.owner !== this.owner && current.expiresAt > now) return false;
      await client.updateEntity(entity, 'Replace', { etag: current.etag });
      return true;
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status === 404) {
        try {
          await client.createEntity(entity);
          return true;
        } catch (inner) {
          if (tableErrorStatus(inner) === 409) return false;
          throw inner;
        }
      }
      if (status === 412) return false;
      throw error;
    }
  }

  async releaseLease(): Promise<void> {
    const client = await this.client();
    try {
      const current = await client.getEntity<{ owner: string }>(PARTITION, LEASE_ROW);
      if (current.owner === this.owner) await client.deleteEntity(PARTITION, LEASE_ROW, { etag: current.etag });
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }

  async load(): Promise<StoredPacingState> {
    const client = await this.client();
    try {
      const entity = await client.getEntity<{ state: string }>(PARTITION, STATE_ROW);
      return { state: parsePacingState(JSON.parse(entity.state), 'stored pacing state'), etag: entity.etag };
    } catch (error) {
      if (tableErrorStatus(error) === 404) return { state: emptyPacingState(), etag: undefined };
      throw error;
    }
  }

  /** Saves the state if nobody saved since `etag` was read; returns false otherwise. */
  async save(state: PacingState, etag: string | undefined): Promise<boolean> {
    const client = await this.client();
    const entity = { partitionKey: PARTITION, rowKey: STATE_ROW, state: JSON.stringify(state) };
    try {
      if (etag === undefined) await client.createEntity(entity);
      else await client.updateEntity(entity, 'Replace', { etag });
      return true;
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status === 409 || status === 412) return false;
      throw error;
    }
  }

  /** Appends decisions, keeping the last RECENT_DECISIONS per engagement (single writer: the lease owner). */
  async appendDecisions(decisions: readonly PacingDecision[]): Promise<void> {
    const client = await this.client();
    await Promise.all(
      decisions.map(async (decision) => {
        const previous = await this.decisions(decision.engagementId);
        const kept = [decision, ...previous].slice(0, RECENT_DECISIONS);
        await client.upsertEntity({ partitionKey: PARTITION, rowKey: decisionsRow(decision.engagementId), decisions: JSON.stringify(kept) }, 'Replace');
      }),
    );
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
