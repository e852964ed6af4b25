import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemError } from '../../../src/errors.js';
import { backoffDelay } from '../../../src/http/backoffDelay.js';
import { parseRetryAfter } from '../../../src/http/parseRetryAfter.js';
import type { RetryOptions } from '../../../src/http/retryOptions.js';
import { sendWithRetries } from '../../../src/http/sendWithRetries.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T14:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, and a past date as no wait', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 14:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 13:59:00 GMT', now)).toBe(0);
  });

  it('ignores missing or unreadable values so the caller backs off on its own', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const options = { baseDelayMs: 500, maxDelayMs: 3_000 };

  it('doubles per try between half and all of the nominal delay', () => {
    expect(backoffDelay(2, options, () => 0)).toBe(250);
    expect(backoffDelay(2, options, () => 0.999_999)).toBe(500);
    expect(backoffDelay(3, options, () => 0)).toBe(500);
    expect(backoffDelay(4, options, () => 0.5)).toBe(1_500);
  });

  it('caps the nominal delay at maxDelayMs', () => {
    expect(backoffDelay(10, options, () => 0.999_999)).toBe(3_000);
    expect(backoffDelay(10, options, () => 0)).toBe(1_500);
  });
});

describe('sendWithRetries', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const fast: RetryOptions = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 5_000, requestTimeoutMs: 1_000 };

  /** A `send` that answers from a script, one entry per try; a string entry is thrown as a network error. */
  function scripted(...script: Array<Response | string>) {
    let tries = 0;
    const send = (): Promise<Response> => {
      const next = script[tries];
      tries += 1;
      if (next === undefined) throw new Error(`send called ${tries} times, script has ${script.length}`);
      return typeof next === 'string' ? Promise.reject(new TypeError(next)) : Promise.resolve(next);
    };
    return { send, tries: () => tries };
  }

  it('retries a 503 and a network error, then returns the first non-retryable answer (a 400)', async () => {
    const { send, tries } = scripted(new Response('busy', { status: 503 }), 'fetch failed', new Response('{"error":{}}', { status: 400 }));
    const response = await sendWithRetries(send, { retry: fast, operation: 'test call' });
    expect(response.status).toBe(400);
    expect(tries()).toBe(3);
  });

  it('gives up after maxAttempts with a retryable DependencyFailed SystemError', async () => {
    const { send, tries } = scripted(...Array.from({ length: 4 }, () => new Response(null, { status: 502 })));
    const error = await sendWithRetries(send, { retry: fast, operation: 'test call' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'DependencyFailed', retryable: true });
    expect((error as SystemError).message).toMatch(/test call failed after 4 tries in \d+ ms; last: HTTP 502/);
    expect(tries()).toBe(4);
  });

  it('reports Throttled with the server delay when the last answer was 429', async () => {
    const throttled = () => new Response(null, { status: 429, headers: { 'Retry-After': '0' } });
    const { send } = scripted(throttled(), throttled(), throttled(), throttled());
    await expect(sendWithRetries(send, { retry: fast, operation: 'test call' })).rejects.toMatchObject({
      code: 'Throttled',
      retryable: true,
      retryAfterMs: 0,
    });
  });

  it('does not wait for a Retry-After longer than the time budget, and passes the delay on', async () => {
    const { send, tries } = scripted(new Response(null, { status: 429, headers: { 'Retry-After': '120' } }));
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    const error = await sendWithRetries(send, { retry: fast, operation: 'test call', sleep }).catch((e: unknown) => e);
    expect(waits).toEqual([]);
    expect(error).toMatchObject({ code: 'Throttled', retryable: true, retryAfterMs: 120_000 });
    expect(tries()).toBe(1);
  });

  it('abandons a try that outlives requestTimeoutMs and tries again', async () => {
    let tries = 0;
    const send = (signal: AbortSignal): Promise<Response> => {
      tries += 1;
      if (tries > 1) return Promise.resolve(new Response('{}', { status: 200 }));
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    };
    const response = await sendWithRetries(send, { retry: { ...fast, requestTimeoutMs: 100 }, operation: 'test call' });
    expect(response.status).toBe(200);
    expect(tries).toBe(2);
  });

  it('stops waiting when the caller aborts', async () => {
    // The real wait, on fake timers: the 2 s Retry-After never passes unless the test moves time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const { send } = scripted(new Response(null, { status: 503, headers: { 'Retry-After': '2' } }));
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const call = sendWithRetries(send, { retry: fast, operation: 'test call', signal: controller.signal });
    const settled = call.then(
      () => true,
      () => true,
    );
    await vi.advanceTimersByTimeAsync(1_000);
    // Settled within the first second of the 2 s wait: the abort ended it.
    expect(await Promise.race([settled, Promise.resolve(false)])).toBe(true);
    await expect(call).rejects.toThrow('shutting down');
  });
});
