import type { CallWindow } from '../contacts/plannedContact.js';

/**
 * True when `now` falls in one of the contact's planned windows (start inclusive, end exclusive).
 * No windows means not callable: the planner always writes windows (D365's "next 24 h" default is
 * made explicit there), so an empty list is a contact that ran out of them.
 */
export function isCallableNow(windows: readonly CallWindow[], now: Date): boolean {
  const t = now.getTime();
  return windows.some((w) => {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    return start <= t && t < end;
  });
}
