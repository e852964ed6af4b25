/**
 * Pure planning of one page by the former planner (test/support/referencePlanDeliveries.ts, the
 * baseline) and by the planner now, in the same process: wall time and the process's CPU time for each
 * (on a shared machine the CPU time moves less with load than the wall time), and the plans compared so
 * a figure never comes from a planner that gave a different answer.
 */
import type { EngagementConfig, QueueConfig } from '../../src/engagement/engagementSchema.js';
import { planDeliveries, type PlanningState, type TriggerContact } from '../../src/planning/planDeliveries.js';
import { planDeliveries as formerPlanDeliveries } from '../../test/support/referencePlanDeliveries.js';

export interface PlanTiming {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface PlanningComparison {
  readonly former: PlanTiming;
  readonly now: PlanTiming;
  readonly planned: number;
  readonly skipped: number;
}

function timed<T>(run: () => T): { result: T; timing: PlanTiming } {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = run();
  const wallMs = performance.now() - t;
  const used = process.cpuUsage(cpu);
  return { result, timing: { wallMs, cpuMs: (used.user + used.system) / 1000 } };
}

export function comparePlanning(input: {
  engagement: EngagementConfig;
  queue: QueueConfig;
  contacts: readonly TriggerContact[];
  state: PlanningState;
  now: number;
}): PlanningComparison & { plan: ReturnType<typeof planDeliveries> } {
  const args = { ...input, triggerId: 't' };
  const former = timed(() => formerPlanDeliveries(args));
  const now = timed(() => planDeliveries(args));
  const same =
    former.result.planned.length === now.result.planned.length &&
    JSON.stringify(former.result.skipped) === JSON.stringify(now.result.skipped) &&
    former.result.planned.every((p, i) => JSON.stringify(p) === JSON.stringify(now.result.planned[i]));
  if (!same) throw new Error('the planner now and the former planner gave different plans');
  return { former: former.timing, now: now.timing, planned: now.result.planned.length, skipped: now.result.skipped.length, plan: now.result };
}

function perSecond(count: number, ms: number): string {
  return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`;
}

/** One printed line: contacts/s (wall, and per CPU second) and the ratio to the former planner on the same page. */
export function describePlanning(label: string, count: number, c: PlanningComparison): string {
  return (
    `${label.padEnd(34)} ${c.now.wallMs.toFixed(0).padStart(6)} ms  ${perSecond(count, c.now.wallMs).padStart(9)}  ` +
    `${(c.former.wallMs / c.now.wallMs).toFixed(2)}x the former planner (${c.former.wallMs.toFixed(0)} ms, ${perSecond(count, c.former.wallMs)}); ` +
    `CPU ${c.now.cpuMs.toFixed(0)} ms = ${perSecond(count, c.now.cpuMs)} per CPU second (former ${perSecond(count, c.former.cpuMs)}); ` +
    `accepted ${c.planned}, skipped ${c.skipped}`
  );
}
