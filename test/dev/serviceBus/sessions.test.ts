import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, startTestBroker, type TestBroker } from './brokerFixture.js';

describe('sessions, which the local Service Bus broker does not support', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker([{ Name: 'plain' }]);
  });
  afterAll(async () => t.stop());

  it('fails acceptSession with an error saying sessions are not supported by the local broker', async () => {
    const error = await rejectionOf(t.client.acceptSession('plain', 'session-1'));
    expect(error.message).toMatch(/Sessions are not supported by the local Service Bus broker/);
    expect(error.message).toContain("'plain'");
  });

  it('fails acceptNextSession the same way', async () => {
    const error = await rejectionOf(t.client.acceptNextSession('plain', { maxAutoLockRenewalDurationInMs: 0 }));
    expect(error.message).toMatch(/Sessions are not supported by the local Service Bus broker/);
  });
});
