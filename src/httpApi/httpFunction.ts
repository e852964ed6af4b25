import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { errorResponse } from './errorResponse.js';

/** An HTTP function's handler, as the product's HTTP functions return it (always a response, never a throw). */
export type HttpFunctionHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** The work of one HTTP function, given the dependencies it declared. */
export type HttpFunctionBody<Deps> = (deps: Deps, request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * An HTTP handler that gets its dependencies from `deps` at each request (the app registry composes
 * them once) and runs `body`. Anything thrown, including a failure to compose the dependencies,
 * becomes a response through `errorResponse`: the caller's mistakes keep their status and issues,
 * dependency failures are 503, and anything else a 500 that names the invocation, not the cause.
 */
export function httpFunction<Deps>(deps: () => Promise<Deps>, body: HttpFunctionBody<Deps>): HttpFunctionHandler {
  return async (request, context) => {
    try {
      return await body(await deps(), request, context);
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}
