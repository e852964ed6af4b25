import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { SystemError } from '../errors.js';
import { errorResponse, OUTAGE_RETRY_AFTER_SECONDS } from './errorResponse.js';
import { requestBudgetMs, withRequestBudget } from './requestBudget.js';

/** An HTTP function's handler, as the product's HTTP functions return it (always a response, never a throw). */
export type HttpFunctionHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** The work of one HTTP function, given the dependencies it declared. */
export type HttpFunctionBody<Deps> = (deps: Deps, request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * An HTTP handler that gets its dependencies from `deps` at each request (the app registry composes
 * them once) and runs `body`. Anything thrown, including a failure to compose the dependencies,
 * becomes a response through `errorResponse`: the caller's mistakes keep their status and issues,
 * dependency failures are 503, and anything else a 500 that names the invocation, not the cause.
 * The Table Storage and Service Bus calls the request makes share one time budget
 * (REQUEST_DEPENDENCY_BUDGET_SECONDS); once it is spent they are aborted and the answer is 503.
 */
export function httpFunction<Deps>(deps: () => Promise<Deps>, body: HttpFunctionBody<Deps>): HttpFunctionHandler {
  return async (request, context) => {
    let budget = AbortSignal.timeout(requestBudgetMs());
    try {
      const resolved = await withRequestBudget(requestBudgetMs(), deps, budget);
      // Composing a process's dependencies is what reads REQUEST_DEPENDENCY_BUDGET_SECONDS, so the
      // request's own work starts its budget afresh: the first request gets the configured one too.
      budget = AbortSignal.timeout(requestBudgetMs());
      return await withRequestBudget(requestBudgetMs(), () => body(resolved, request, context), budget);
    } catch (error) {
      if (budget.aborted) {
        return errorResponse(
          new SystemError('DependencyFailed', 'a dependency did not answer in time; retry the same request later', true, {
            cause: error,
            retryAfterMs: OUTAGE_RETRY_AFTER_SECONDS * 1000,
          }),
          context,
        );
      }
      return errorResponse(error, context);
    }
  };
}
