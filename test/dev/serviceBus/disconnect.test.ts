import { Socket } from 'node:net';
import type { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { internalField, receiveUpTo, startTestBroker, type TestBroker } from './brokerFixture.js';

/** Cuts a client's TCP connection the way a crash or network failure would, without any AMQP close. */
function destroySocketOf(client: ServiceBusClient): void {
  const socket = internalField(client, '_connectionContext', 'connection', '_connection', 'socket');
  if (!(socket instanceof Socket)) throw new Error('the client has no TCP socket');
  socket.destroy();
}

describe('clients that go away while holding locks', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker([{ Name: 'abrupt' }, { Name: 'closed' }, { Name: 'healthy' }]);
  });
  afterAll(async () => t.stop());

  it('releases the locks of a client whose socket is destroyed; its messages are redelivered with deliveryCount + 1', async () => {
    await t.client.createSender('abrupt').sendMessages([1, 2, 3].map((i) => ({ body: i, messageId: `a${i}` })));
    const doomed = t.newClient();
    const held = await receiveUpTo(doomed.createReceiver('abrupt'), 3);
    expect(held).toHaveLength(3);
    expect(t.broker.stats('abrupt').locked).toBe(3);

    destroySocketOf(doomed);
    // The broker learns of the lost socket on its own side of the connection; nothing tells the test.
    await vi.waitFor(() => expect(t.broker.stats('abrupt').locked).toBe(0), { timeout: 3_000 });

    const survivor = t.client.createReceiver('abrupt');
    const redelivered = await receiveUpTo(survivor, 3);
    expect(redelivered.map((m) => m.body)).toEqual([1, 2, 3]);
    expect(redelivered.every((m) => m.deliveryCount === 1)).toBe(true);
    for (const message of redelivered) await survivor.completeMessage(message);
    // The SDK's close() does not settle after its socket was cut; the fixture bounds that wait.
  });

  it('releases the locks of a client closed without settling', async () => {
    await t.client.createSender('closed').sendMessages([1, 2].map((i) => ({ body: i, messageId: `c${i}` })));
    const leaving = t.newClient();
    expect(await receiveUpTo(leaving.createReceiver('closed'), 2)).toHaveLength(2);
    await leaving.close();
    await vi.waitFor(() => expect(t.broker.stats('closed').locked).toBe(0), { timeout: 3_000 });

    const redelivered = await receiveUpTo(t.client.createReceiver('closed', { receiveMode: 'receiveAndDelete' }), 2);
    expect(redelivered.map((m) => m.deliveryCount)).toEqual([1, 1]);
  });

  it('keeps serving other clients after clients vanished', async () => {
    const fresh = t.newClient();
    await fresh.createSender('healthy').sendMessages({ body: 'still here', messageId: 'h1' });
    const [message] = await receiveUpTo(fresh.createReceiver('healthy', { receiveMode: 'receiveAndDelete' }), 1);
    expect(message?.body).toBe('still here');
  });
});
