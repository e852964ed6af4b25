import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { callEventsHandler, type CallEventsDeps } from '../../src/dispatch/dispatchHttp.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';

const engagement = makeEngagement();
const NOW = Date.parse('2026-11-25T15:05:00Z');
const catalog = { engagements: new Map([[engagement.id, engagement]]), queues: new Map([['q1', makeQueue()]]) };

function event(i: number): CallEvent {
  return { engagementId: engagement.id, deliveryId: `d-${i}`, attempt: 1, result: 'NoAnswer', at: '2026-11-25T15:00:00Z' };
}

function post(deps: CallEventsDeps, events: readonly CallEvent[]): Promise<HttpResponseInit> {
  const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/call-events', body: { string: JSON.stringify(events) } });
  return callEventsHandler(async () => deps)(request, new InvocationContext({ logHandler: () => undefined }));
}

describe('POST /api/call-events', () => {
  it('records each event once and counts what happened', async () => {
    const recorded: string[] = [];
    const deps: CallEventsDeps = {
      catalog,
      clock: () => NOW,
      maxEvents: 10,
      record: async (e) => {
        const seen = recorded.includes(e.deliveryId);
        recorded.push(e.deliveryId);
        return seen ? { status: 'duplicate' } : { status: 'recorded', next: 'done' };
      },
    };
    const response = await post(deps, [event(1), event(2), event(1)]);
    expect(response).toEqual({ status: 202, jsonBody: { recorded: 2, merged: 0, duplicate: 1, unknownDelivery: 0, refused: 0 } });
  });

  it('more events than CALL_EVENTS_MAX_EVENTS is a 413 and records nothing', async () => {
    let records = 0;
    const deps: CallEventsDeps = {
      catalog,
      clock: () => NOW,
      maxEvents: 2,
      record: async () => {
        records++;
        return { status: 'recorded', next: 'done' };
      },
    };
    const response = await post(deps, [event(1), event(2), event(3)]);
    expect(response.status).toBe(413);
    expect(response.jsonBody).toMatchObject({ error: 'PayloadTooLarge' });
    expect(records).toBe(0);
  });
});
