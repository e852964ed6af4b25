/** Microsoft Graph presence availability values. */
export const AVAILABILITIES = ['Available', 'AvailableIdle', 'Away', 'BeRightBack', 'Busy', 'BusyIdle', 'DoNotDisturb', 'Offline', 'PresenceUnknown'] as const;
export type Availability = (typeof AVAILABILITIES)[number];

/** A representative counts as available for proactive calls only when Graph says Available or AvailableIdle. */
export function isAvailable(availability: Availability): boolean {
  return availability === 'Available' || availability === 'AvailableIdle';
}

/** Reads representatives' presence (Graph in production, the simulator locally). */
export interface PresencePort {
  /** Presence by Entra user id; ids Graph does not know come back as PresenceUnknown. */
  getAvailability(userIds: readonly string[]): Promise<Map<string, Availability>>;
}

/** Resolves a queue's members when the queue names an Entra group instead of listing them. */
export interface QueueMembersPort {
  listGroupMembers(groupId: string): Promise<string[]>;
}
