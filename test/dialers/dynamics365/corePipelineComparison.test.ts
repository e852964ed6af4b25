/**
 * The measured reason the Dataverse client keeps `sendWithRetries` instead of @azure/core-rest-pipeline's
 * retry policies (docs/decisions-dynamics365.md, "@azure/core-rest-pipeline: measured, not adopted").
 * The pipeline runs on a fake HttpClient and vitest's fake timers, so what it holds is read off the
 * fake clock, never waited for. If an upgrade of the package changes these facts, this file fails and
 * the decision is to be revisited.
 */
import {
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  bearerTokenAuthenticationPolicy,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  throttlingRetryPolicy,
} from '@azure/core-rest-pipeline';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SystemError } from '../../../src/errors.js';
import { DEFAULT_RETRY_OPTIONS } from '../../../src/http/retryOptions.js';
import { sendWithRetries } from '../../../src/http/sendWithRetries.js';

const THROTTLED = { error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } };
const URL_ = 'https://contoso.crm.dynamics.com/api/data/v9.2/CCaaS_CreateProactiveDelivery';

/** Answers in order (the last repeats), as Dataverse would: a status and a Retry-After in seconds. */
function dataverse(answers: ReadonlyArray<readonly [number, number?]>) {
  const sentAt: number[] = [];
  const client: HttpClient = {
    sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const [status, retryAfter] = answers[Math.min(sentAt.length, answers.length - 1)] ?? [500];
      sentAt.push(Date.now());
      const headers = createHttpHeaders({ 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) });
      return Promise.resolve({ request, status, headers, bodyAsText: status === 429 ? JSON.stringify(THROTTLED) : '{}' });
    },
  };
  return { client, sentAt };
}

/** Sends through a pipeline of throttlingRetryPolicy alone; reports how long the caller was held and the status it got. */
async function throughThrottlingPolicy(answers: ReadonlyArray<readonly [number, number?]>) {
  const { client, sentAt } = dataverse(answers);
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(throttlingRetryPolicy());
  const started = Date.now();
  let settled: { status: number; heldMs: number } | undefined;
  const sent = pipeline.sendRequest(client, createPipelineRequest({ url: URL_, method: 'POST' })).then((response) => {
    settled = { status: response.status, heldMs: Date.now() - started };
  });
  return { sent, sentAt, started, settled: () => settled };
}

describe('@azure/core-rest-pipeline throttling retry, against the budget a pacing tick needs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-11-25T15:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds the request for the whole Retry-After (300 s), where sendWithRetries gives up at once and hands the delay on', async () => {
    const run = await throughThrottlingPolicy([[429, 300], [200]]);
    await vi.advanceTimersByTimeAsync(299_999);
    expect(run.settled()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await run.sent;
    expect(run.settled()).toEqual({ status: 200, heldMs: 300_000 });
    expect(run.sentAt.map((t) => t - run.started)).toEqual([0, 300_000]);

    const ours = dataverse([[429, 300], [200]]);
    const waits: number[] = [];
    const error = await sendWithRetries(
      async () => {
        const response = await ours.client.sendRequest(createPipelineRequest({ url: URL_, method: 'POST' }));
        return new Response(response.bodyAsText ?? null, { status: response.status, headers: response.headers.toJSON() });
      },
      {
        retry: DEFAULT_RETRY_OPTIONS,
        operation: 'Dataverse CCaaS_CreateProactiveDelivery',
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'Throttled', retryable: true, retryAfterMs: 300_000 });
    expect(waits).toEqual([]);
    expect(ours.sentAt).toHaveLength(1);
  });

  it('has no total budget: three 120 s Retry-Afters hold the caller 360 s, then the last 429 is returned as a response', async () => {
    const run = await throughThrottlingPolicy([[429, 120]]);
    await vi.advanceTimersByTimeAsync(360_000);
    await run.sent;
    expect(run.settled()).toEqual({ status: 429, heldMs: 360_000 });
    expect(run.sentAt.map((t) => t - run.started)).toEqual([0, 120_000, 240_000, 360_000]);
  });

  it('its bearer token policy refuses a plain-http organisation, so it cannot call the local stand-in', async () => {
    vi.useRealTimers();
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({
        scopes: 'http://127.0.0.1:7072/.default',
        credential: { getToken: () => Promise.resolve({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      }),
    );
    const { client, sentAt } = dataverse([[200]]);
    await expect(pipeline.sendRequest(client, createPipelineRequest({ url: 'http://127.0.0.1:7072/api/data/v9.2/WhoAmI', method: 'GET' }))).rejects.toThrow(
      /not permitted for non-TLS protected \(non-https\) URLs/,
    );
    expect(sentAt).toEqual([]);
  });
});
