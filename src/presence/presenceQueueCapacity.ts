import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import { isAvailable, type PresencePort, type QueueMembersPort } from './presencePort.js';

/**
 * "Does this queue have someone free for a hand-off now?": a queue has capacity when it offers the
 * skills asked for and at least one of its members is Available in presence (Graph, or the simulator).
 */
export class PresenceQueueCapacity {
  constructor(
    private readonly catalog: EngagementCatalog,
    private readonly presence: PresencePort,
    private readonly members?: QueueMembersPort,
  ) {}

  async hasCapacity(queueName: string, skills: readonly string[]): Promise<boolean> {
    const queue = this.catalog.queues.get(queueName);
    if (queue === undefined) return false;
    if (!skills.every((skill) => queue.skills.includes(skill))) return false;
    const ids =
      queue.representatives?.map((r) => r.userId) ??
      (queue.entraGroupId !== undefined && this.members !== undefined ? await this.members.listGroupMembers(queue.entraGroupId) : []);
    if (ids.length === 0) return false;
    const presence = await this.presence.getAvailability(ids);
    return ids.some((id) => isAvailable(presence.get(id) ?? 'PresenceUnknown'));
  }
}
