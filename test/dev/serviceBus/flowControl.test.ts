import { EventEmitter, once } from 'node:events';
import type { ServiceBusReceiver } from '@azure/service-bus';
import rhea, { type Connection, type EventContext } from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpReader, deliverRawTransfers } from '../../../dev/serviceBus/rheaInternals.js';
import { internalField, receiveUpTo, startTestBroker, type TestBroker } from './brokerFixture.js';

const PROPERTIES_SECTION = 0x73;

/** Offset of the properties section: where the bare message (what the broker must not alter) starts. */
function bareMessageOffset(bytes: Buffer): number {
  const reader = amqpReader(bytes);
  while (reader.remaining() > 0) {
    const start = reader.position;
    if (reader.read().descriptor?.value === PROPERTIES_SECTION) return start;
  }
  throw new Error('no properties section');
}

/**
 * Counts the drain answers (flow with drain=true) the receiver's AMQP link gets. Registered before the
 * SDK's own listener, so by the time a receiveMessages call resolves the count shows whether the broker
 * answered its drain, or the SDK gave up waiting for the answer (its drain timeout).
 */
function countDrainAnswers(receiver: ServiceBusReceiver): { readonly count: number } {
  const link = internalField(receiver, '_batchingReceiver', 'link');
  if (!(link instanceof EventEmitter)) throw new Error('the SDK receive link is not an event emitter; did the SDK change?');
  const answers = { count: 0 };
  link.on('receiver_drained', () => answers.count++);
  return answers;
}

describe('credit and drain handling of the local Service Bus broker', () => {
  let t: TestBroker;
  const log: string[] = [];
  const attachesOn = (queue: string): number => log.filter((line) => line.includes(` on ${queue} (peekLock)`)).length;

  beforeAll(async () => {
    t = await startTestBroker([{ Name: 'credit' }, { Name: 'race' }, { Name: 'drain-raw' }, { Name: 'bytes' }], {
      log: (line) => log.push(line),
    });
  });
  afterAll(async () => t.stop());

  it('answers receiveMessages on an empty queue at maxWaitTimeInMs, never locks messages nobody asked for, and keeps the link', async () => {
    const receiver = t.client.createReceiver('credit');
    const sender = t.client.createSender('credit');

    // The first receive also attaches the link (CBS, attach); watch the drains of the ones after it.
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 50 })).toEqual([]);
    const drains = countDrainAnswers(receiver);
    expect(await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 })).toEqual([]);
    // At maxWaitTimeInMs the SDK drains; the broker's answer, not the SDK's drain timeout, ended the receive.
    expect(drains.count).toBe(1);

    await sender.sendMessages([1, 2, 3].map((i) => ({ body: i, messageId: `c${i}` })));
    const nearlyEmpty = await receiver.receiveMessages(10, { maxWaitTimeInMs: 5_000 });
    expect(nearlyEmpty.map((m) => m.body)).toEqual([1, 2, 3]);
    // One second after the first message the SDK drains, and the broker answers at once: not the 5 s wait.
    expect(drains.count).toBe(2);
    expect(t.broker.stats('credit')).toMatchObject({ active: 3, locked: 3 });

    // The drain consumed the receiver's leftover credit: new messages stay unlocked until asked for.
    // (sendMessages resolves once the broker stored them, and stores hand messages to credit in that same step.)
    await sender.sendMessages([4, 5, 6, 7].map((i) => ({ body: i, messageId: `c${i}` })));
    expect(t.broker.stats('credit')).toMatchObject({ active: 7, locked: 3 });

    const next = await receiver.receiveMessages(2, { maxWaitTimeInMs: 1_000 });
    expect(next.map((m) => m.body)).toEqual([4, 5]);
    expect(t.broker.stats('credit').locked).toBe(5);
    for (const message of [...nearlyEmpty, ...next]) await receiver.completeMessage(message);
    expect(attachesOn('credit')).toBe(1);
  });

  it('loses no message and never reopens the link when messages race the end of short receives', async () => {
    const receiver = t.client.createReceiver('race');
    const sender = t.client.createSender('race');
    const rounds = 30;
    const received: unknown[] = [];
    for (let i = 0; i < rounds; i++) {
      const [messages] = await Promise.all([
        receiver.receiveMessages(1, { maxWaitTimeInMs: 5 + (i % 5) }),
        sender.sendMessages({ body: i, messageId: `r${i}` }),
      ]);
      for (const message of messages) {
        received.push(message.body);
        await receiver.completeMessage(message);
      }
    }
    for (const message of await receiveUpTo(receiver, rounds - received.length, 3_000)) {
      received.push(message.body);
      await receiver.completeMessage(message);
    }
    expect(received.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: rounds }, (_, i) => i));
    expect(t.broker.stats('race')).toMatchObject({ active: 0, locked: 0 });
    expect(attachesOn('race')).toBe(1);
  });

  describe('at the AMQP level (a bare rhea client)', () => {
    let connection: Connection;

    beforeAll(async () => {
      connection = rhea.create_container().connect({ host: '127.0.0.1', port: t.broker.port, username: 'test', reconnect: false });
      await once(connection, 'connection_open');
    });
    afterAll(async () => {
      connection.close();
      await once(connection, 'connection_close');
    });

    it('echoes drain=true even when the last credit went to a message in the same pass', async () => {
      await t.client.createSender('drain-raw').sendMessages([1, 2, 3].map((i) => ({ body: i, messageId: `d${i}` })));
      const receiver = connection.open_receiver({ source: { address: 'drain-raw' }, credit_window: 0, autoaccept: false, rcv_settle_mode: 1 });
      await once(receiver, 'receiver_open');
      const messages: EventContext[] = [];
      receiver.on('message', (context: EventContext) => messages.push(context));
      // The bound only turns a missing answer into a clear failure; the answer itself comes at once.
      const drained = once(receiver, 'receiver_drained', { signal: AbortSignal.timeout(5_000) });
      // One flow frame with credit 3 and drain=true while 3 messages wait: all credit is used at once.
      receiver.add_credit(3);
      receiver.drain_credit();
      const outcome = await drained.then(
        () => 'drained',
        () => 'timed out',
      );
      expect(outcome).toBe('drained');
      expect(messages).toHaveLength(3);
      for (const context of messages) context.delivery?.accept();
      receiver.close();
    });

    it('delivers the bare message (properties, application properties, body) byte for byte as sent', async () => {
      const types = rhea.types;
      const sent = rhea.message.encode({
        message_id: 'exact-1',
        application_properties: {
          int: types.wrap_int(-5),
          short: types.wrap_short(3),
          ubyte: types.wrap_ubyte(200),
          long: types.wrap_long(7),
          ulong: types.wrap_ulong(9),
          float: types.wrap_float(0.5),
          symbol: types.wrap_symbol('sym'),
        },
        body: rhea.message.data_section(Buffer.from('{"phone":"+15550100"}')),
      });
      const sender = connection.open_sender({ target: { address: 'bytes' } });
      await once(sender, 'sendable');
      sender.send(sent, undefined, 0);
      await once(sender, 'accepted');

      const raw = rhea.create_container().connect({ host: '127.0.0.1', port: t.broker.port, username: 'test', reconnect: false });
      deliverRawTransfers(raw);
      try {
        await once(raw, 'connection_open');
        const receiver = raw.open_receiver({ source: { address: 'bytes' }, credit_window: 1, autoaccept: true });
        const [context] = (await once(receiver, 'message')) as [EventContext];
        const delivered: unknown = context.message;
        if (!Buffer.isBuffer(delivered)) throw new Error('expected raw bytes');
        expect(delivered.subarray(bareMessageOffset(delivered)).equals(sent.subarray(bareMessageOffset(sent)))).toBe(true);
      } finally {
        raw.close();
        await once(raw, 'connection_close');
      }
    });
  });
});
