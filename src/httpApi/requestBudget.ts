import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long the dependency calls of one request may take in all. Azure's front end cuts a request at
 * 230 s; a caller told "503, retry" well before that can retry the same request, one left hanging
 * cannot tell whether it was applied.
 */
export interface RequestBudget {
  /** Aborted when the budget is spent: Table Storage and Service Bus calls made for the request pass it on. */
  readonly signal: AbortSignal;
}

const current = new AsyncLocalStorage<RequestBudget>();

/** REQUEST_DEPENDENCY_BUDGET_SECONDS's default: well under the front end's 230 s. */
export const DEFAULT_REQUEST_BUDGET_MS = 60_000;
let configuredBudgetMs = DEFAULT_REQUEST_BUDGET_MS;

/** Sets the budget of every later request (the foundation does, from REQUEST_DEPENDENCY_BUDGET_SECONDS). */
export function setRequestBudget(ms: number): void {
  configuredBudgetMs = ms;
}

/** The budget a request starts with. */
export function requestBudgetMs(): number {
  return configuredBudgetMs;
}

/**
 * Runs `work` with a budget of `ms` for every dependency call it makes (found through
 * {@link budgetSignal}, so stores and publishers need no extra parameter). `signal` lets a test end the
 * budget without waiting for a timer.
 */
export function withRequestBudget<T>(ms: number, work: () => Promise<T>, signal: AbortSignal = AbortSignal.timeout(ms)): Promise<T> {
  return current.run({ signal }, work);
}

/** The signal of the request being served, if any (timer and trigger work has none and keeps the SDK's own limits). */
export function budgetSignal(): AbortSignal | undefined {
  return current.getStore()?.signal;
}

/** True when `signal` (the request's budget) has been spent, so an abort error means "dependency too slow". */
export function budgetSpent(): boolean {
  return current.getStore()?.signal.aborted === true;
}
