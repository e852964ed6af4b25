import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { SystemError, UserError } from '../../src/errors.js';
import { httpFunction } from '../../src/httpApi/httpFunction.js';
import { budgetSignal, DEFAULT_REQUEST_BUDGET_MS, setRequestBudget } from '../../src/httpApi/requestBudget.js';

const request = () => new HttpRequest({ method: 'POST', url: 'http://localhost/api/anything', body: { string: '{}' } });

function loggingContext() {
  const logged: string[] = [];
  const context = new InvocationContext({ invocationId: 'inv-1', logHandler: (_level, ...args) => logged.push(args.join(' ')) });
  return { context, logged };
}

describe('httpFunction', () => {
  it('hands the body its dependencies and returns its response as is', async () => {
    const handler = httpFunction(
      async () => ({ greeting: 'hello' }),
      async ({ greeting }) => ({ status: 200, jsonBody: { greeting } }),
    );
    expect(await handler(request(), loggingContext().context)).toEqual({ status: 200, jsonBody: { greeting: 'hello' } });
  });

  it("a process's first request gets the budget its composition configured, not the default", async () => {
    // Composing is what reads REQUEST_DEPENDENCY_BUDGET_SECONDS; a 1 ms budget must cut this request
    // (with the default 60 s one the body would wait past the test's timeout).
    const handler = httpFunction(
      async () => {
        setRequestBudget(1);
        return {};
      },
      async () => {
        const signal = budgetSignal();
        if (signal === undefined) throw new Error('no budget in scope');
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
        return { status: 200 };
      },
    );
    try {
      const response = await handler(request(), loggingContext().context);
      expect(response.status).toBe(503);
      expect(response.jsonBody).toMatchObject({ error: 'DependencyFailed' });
    } finally {
      setRequestBudget(DEFAULT_REQUEST_BUDGET_MS);
    }
  });

  it('a user error is a 400 with every issue', async () => {
    const handler = httpFunction(
      async () => ({}),
      async () => {
        throw new UserError('InvalidRequest', 'bad contacts', [
          { path: '[0].contactId', message: 'expected a non-empty string' },
          { path: '[1].timeZone', message: 'expected an IANA time zone' },
        ]);
      },
    );
    const response = await handler(request(), loggingContext().context);
    expect(response).toEqual({
      status: 400,
      jsonBody: {
        error: 'InvalidRequest',
        message: 'bad contacts',
        issues: [
          { path: '[0].contactId', message: 'expected a non-empty string' },
          { path: '[1].timeZone', message: 'expected an IANA time zone' },
        ],
      },
    });
  });

  it('a retryable system error while composing the dependencies is a 503 with Retry-After', async () => {
    let bodyRan = false;
    const handler = httpFunction(
      async () => {
        throw new SystemError('DependencyFailed', 'table storage unavailable', true, { retryAfterMs: 2_500 });
      },
      async () => {
        bodyRan = true;
        return { status: 200 };
      },
    );
    const response = await handler(request(), loggingContext().context);
    expect(response).toEqual({ status: 503, headers: { 'Retry-After': '3' }, jsonBody: { error: 'DependencyFailed', message: 'table storage unavailable' } });
    expect(bodyRan).toBe(false);
  });

  it('an unknown throw is a 500 naming the invocation, with the details in the log only', async () => {
    const handler = httpFunction(
      async () => ({}),
      async () => {
        throw new TypeError('cannot read properties of undefined (reading "AccountKey=SECRET")');
      },
    );
    const { context, logged } = loggingContext();
    const response = await handler(request(), context);
    expect(response).toEqual({ status: 500, jsonBody: { error: 'InternalError', message: 'internal error; invocation inv-1' } });
    expect(JSON.stringify(response)).not.toContain('SECRET');
    expect(logged.join('\n')).toContain('cannot read properties of undefined');
  });
});

describe('httpFunction: dependency outages', () => {
  it('a Table Storage outage (RestError without a status, or a 5xx) is a 503 with Retry-After, naming no endpoint', async () => {
    const { RestError } = await import('@azure/core-rest-pipeline');
    for (const thrown of [
      new RestError('connect ECONNREFUSED 127.0.0.1:10002 https://acct.table.core.windows.net', { code: 'ECONNREFUSED' }),
      new RestError('Server busy', { statusCode: 503 }),
    ]) {
      const { context, logged } = loggingContext();
      const handler = httpFunction(
        () => Promise.resolve({}),
        () => Promise.reject(thrown),
      );
      const response = await handler(request(), context);
      expect(response.status).toBe(503);
      expect(response.headers).toEqual({ 'Retry-After': '10' });
      expect(JSON.stringify(response.jsonBody)).not.toMatch(/127\.0\.0\.1|windows\.net/);
      expect(logged.join('\n')).not.toMatch(/127\.0\.0\.1|windows\.net/);
    }
  });
});
