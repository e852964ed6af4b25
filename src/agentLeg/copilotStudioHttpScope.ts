import { AsyncLocalStorage } from 'node:async_hooks';
import type { EngineFailure } from './agentEngine.js';

/**
 * What one HTTP call of the Copilot Studio client did, seen from underneath it.
 *
 * Why this exists: the client streams through `eventsource-client`, which never looks at the HTTP
 * status and treats every end of a stream as a reason to reconnect, two seconds later, forever. A 401,
 * a 500 or a refused connection therefore looks like a turn that never ends, and a stream cut before
 * its `end` event is POSTed again (the customer's turn sent twice). The client takes no fetch or
 * signal of its own, and calls the global `fetch` at request time, so the only place to see statuses
 * and stop retries is there: `runInHttpScope` marks the calls made on behalf of one relay (through
 * AsyncLocalStorage, which follows the client's promise chains and timers), and the wrapper installed
 * on `globalThis.fetch` answers for those calls only. Every other fetch in the process passes straight
 * through, untouched.
 */
export class CopilotStudioHttpScope {
  readonly controller = new AbortController();
  /** The `x-ms-conversationid` response header, when the service sent one. */
  conversationId: string | undefined;
  failure: EngineFailure | undefined;
  private requests = 0;
  private readonly failed: Promise<EngineFailure>;
  private resolveFailed: (failure: EngineFailure) => void = () => undefined;

  constructor(private readonly target: string) {
    this.failed = new Promise((resolve) => {
      this.resolveFailed = resolve;
    });
  }

  /** Settles when a call of this scope fails (never otherwise). */
  whenFailed(): Promise<EngineFailure> {
    return this.failed;
  }

  /** Stops the scope's calls: in-flight bodies are aborted, and no reconnect gets through. */
  fail(failure: EngineFailure): void {
    if (this.failure !== undefined) return;
    this.failure = failure;
    this.controller.abort();
    this.resolveFailed(failure);
  }

  async fetch(original: typeof fetch, input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> {
    if (this.controller.signal.aborted) throw abortError();
    this.requests += 1;
    if (this.requests > 1) {
      // The client reconnects after a stream ended without its `end` event: that would send the turn again.
      this.fail({ code: 'EngineUnreachable', message: `the answer stream from ${this.target} ended before its end event` });
      throw abortError();
    }
    const signal = init?.signal == null ? this.controller.signal : AbortSignal.any([init.signal, this.controller.signal]);
    let response: Response;
    try {
      response = await original(input, { ...init, signal });
    } catch (thrown) {
      if (!signal.aborted) this.fail({ code: 'EngineUnreachable', message: `no answer from ${this.target}: ${describe(thrown)}` });
      throw abortError();
    }
    const conversationId = response.headers.get('x-ms-conversationid');
    if (conversationId !== null && conversationId !== '') this.conversationId = conversationId;
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const auth = response.status === 401 || response.status === 403;
      this.fail({ code: auth ? 'EngineAuthRefused' : 'EngineHttpError', message: `${this.target} answered HTTP ${response.status}` });
      throw abortError();
    }
    return response;
  }
}

const scopes = new AsyncLocalStorage<CopilotStudioHttpScope>();
let installed = false;

/** Runs `work` with the client's HTTP calls answered by `scope` (installs the fetch wrapper once per process). */
export function runInHttpScope<T>(scope: CopilotStudioHttpScope, work: () => Promise<T>): Promise<T> {
  if (!installed) {
    const original = globalThis.fetch;
    globalThis.fetch = function scopedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
      const current = scopes.getStore();
      return current === undefined ? original(input, init) : current.fetch(original, input, init);
    };
    installed = true;
  }
  return scopes.run(scope, work);
}

function abortError(): Error {
  return new DOMException('the Copilot Studio call was stopped', 'AbortError');
}

function describe(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const cause = thrown.cause instanceof Error ? thrown.cause : undefined;
  const code = cause !== undefined && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  return code ?? cause?.message ?? thrown.message;
}
