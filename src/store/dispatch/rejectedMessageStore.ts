import type { TableClient } from '@azure/data-tables';
import { createHash } from 'node:crypto';
import { toWellFormed } from '../../contacts/wellFormed.js';
import type { Tables } from '../tables.js';

export const REJECTED_MESSAGES_TABLE = 'RejectedMessages';

export interface RejectedMessage {
  readonly queue: string;
  readonly messageId: string;
  readonly reason: string;
  readonly description: string;
  readonly enqueuedTimeUtc: string | undefined;
  readonly deliveryCount: number | undefined;
}

/**
 * Where malformed contact-batch messages go, with the dead-letter reason and description they would
 * carry in a dead-letter queue. The Functions Node.js model (GA) cannot settle a message with a reason
 * itself (see docs/decisions.md), so the handler records it here and lets the host complete it: one bad
 * message never blocks the batch it arrived in, and nothing is lost silently. Bodies are not kept:
 * they carry phone numbers.
 */
/** Longest message id kept (Service Bus allows 128; the trigger may name an invocation-derived id). */
const MAX_KEPT_ID_CHARS = 1_024;

/**
 * The row key of a message id: a hash, so any id (control characters, `/`, a lone surrogate, longer
 * than a key) has a key Table Storage accepts, and `a/b` and `a_b` never share a row.
 */
export function rejectedRowKey(messageId: string): string {
  return createHash('sha256').update(messageId, 'utf8').digest('base64url');
}

export class RejectedMessageStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(REJECTED_MESSAGES_TABLE);
  }

  async record(message: RejectedMessage, now: number): Promise<void> {
    const client = await this.client();
    await client.upsertEntity(
      {
        partitionKey: message.queue,
        rowKey: rejectedRowKey(message.messageId),
        messageId: toWellFormed(message.messageId).slice(0, MAX_KEPT_ID_CHARS),
        reason: message.reason,
        description: message.description.slice(0, 30_000),
        enqueuedTimeUtc: message.enqueuedTimeUtc ?? '',
        deliveryCount: message.deliveryCount ?? 0,
        rejectedAt: new Date(now).toISOString(),
      },
      'Replace',
    );
  }

  async list(queue: string): Promise<(RejectedMessage & { rejectedAt: string })[]> {
    const client = await this.client();
    const out: (RejectedMessage & { rejectedAt: string })[] = [];
    for await (const e of client.listEntities<{
      messageId?: string;
      rowKey: string;
      reason: string;
      description: string;
      enqueuedTimeUtc: string;
      deliveryCount: number;
      rejectedAt: string;
    }>({
      queryOptions: { filter: `PartitionKey eq '${queue.replace(/'/g, "''")}'` },
    })) {
      out.push({
        queue,
        messageId: e.messageId ?? e.rowKey,
        reason: e.reason,
        description: e.description,
        enqueuedTimeUtc: e.enqueuedTimeUtc || undefined,
        deliveryCount: e.deliveryCount,
        rejectedAt: e.rejectedAt,
      });
    }
    // Row keys are hashes: list in the order messages were set aside, then by id.
    const order = (m: { rejectedAt: string; messageId: string }) => `${m.rejectedAt}\n${m.messageId}`;
    return out.sort((a, b) => (order(a) === order(b) ? 0 : order(a) < order(b) ? -1 : 1));
  }
}
