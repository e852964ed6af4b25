import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { MemoryStorage, type Storage } from '@microsoft/agents-hosting';
import { describe, expect, it } from 'vitest';
import { InMemoryOutcomeRecorder, StaticQueueCapacity } from '../../../src/agentLeg/inMemoryPorts.js';
import { parseAgentLegSettings } from '../../../src/agentLeg/agentLegSettings.js';
import { createMessagesHandler } from '../../../src/agentLeg/messagesHandler.js';
import { ConversationStateTooLarge, MAX_STATE_BYTES, TableConversationStorage } from '../../../src/store/agentLeg/tableConversationStorage.js';
import { anaContextValue, catalog } from '../../agentLeg/support/agentLegFixtures.js';
import { workerTables } from '../support/workerTables.js';

/** Where the SDK keeps a conversation's state: `<channel>/<agent>/conversations/<conversation id>`. */
const CONVERSATION_KEY = 'msteams/agent-leg/conversations/conv-1';

/** A storage of one app as its workers see it: each call is the storage of another worker. */
type WorkerStorage = () => Storage;

/**
 * The Storage contract as the SDK's own MemoryStorage keeps it, run against that reference and against
 * the Table adapter on Azurite, so the adapter is held to the same answers.
 */
const implementations: [string, () => WorkerStorage][] = [
  [
    'MemoryStorage (the SDK reference)',
    () => {
      const shared = new MemoryStorage();
      return () => shared;
    },
  ],
  [
    'TableConversationStorage on Azurite',
    () => {
      const tables = workerTables();
      return () => new TableConversationStorage(tables());
    },
  ],
];

describe.each(implementations)('conversation storage contract: %s', (_name, storageOf) => {
  it('reads back what was written, with an eTag; keys never written are absent', async () => {
    const storage = storageOf()();
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'right-party', reprompts: 0 } } });

    const items = await storage.read([CONVERSATION_KEY, 'msteams/agent-leg/conversations/never']);

    expect(Object.keys(items)).toEqual([CONVERSATION_KEY]);
    expect(items[CONVERSATION_KEY]).toEqual({ agentLeg: { step: 'right-party', reprompts: 0 }, eTag: expect.any(String) });
  });

  it('a write with the eTag it read replaces the item; a later write with that stale eTag is refused and changes nothing', async () => {
    const storage = storageOf()();
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'right-party' } } });
    const read = (await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { eTag: string };

    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'disposition' }, eTag: read.eTag } });
    const stale = storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'handing-off' }, eTag: read.eTag } });

    await expect(stale).rejects.toThrow(/eTag conflict/);
    const stored = (await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { agentLeg: unknown; eTag: string };
    expect(stored.agentLeg).toEqual({ step: 'disposition' });
    expect(stored.eTag).not.toBe(read.eTag);
  });

  it('two workers saving one conversation from the same read: exactly one wins and its state is kept', async () => {
    const workers = storageOf();
    const [first, second] = [workers(), workers()];
    await first.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'right-party' } } });
    const eTag = ((await second.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { eTag: string }).eTag;

    const results = await Promise.allSettled([
      first.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'disposition', by: 'first' }, eTag } }),
      second.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'voicemail', by: 'second' }, eTag } }),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = results[0]?.status === 'fulfilled' ? { step: 'disposition', by: 'first' } : { step: 'voicemail', by: 'second' };
    expect(((await workers().read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { agentLeg: unknown }).agentLeg).toEqual(winner);
  });

  it("eTag '*' or no eTag overwrites whatever is stored", async () => {
    const storage = storageOf()();
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'right-party' } } });
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'disposition' } } });
    expect(((await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { agentLeg: unknown }).agentLeg).toEqual({ step: 'disposition' });

    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'ended' }, eTag: '*' } });
    expect(((await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { agentLeg: unknown }).agentLeg).toEqual({ step: 'ended' });
  });

  it('delete forgets the items; deleting a key never written is not an error', async () => {
    const storage = storageOf()();
    const other = 'msteams/agent-leg/conversations/conv-2';
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'ended' } }, [other]: { agentLeg: { step: 'disposition' } } });

    await storage.delete([CONVERSATION_KEY, 'msteams/agent-leg/conversations/never']);

    expect(Object.keys(await storage.read([CONVERSATION_KEY, other]))).toEqual([other]);
  });

  it('keys with characters Table keys forbid, longer than a Table key, or differing only in case are kept apart', async () => {
    const storage = storageOf()();
    const keys = [
      'msteams/agent-leg/conversations/a:1#2?3\\4',
      `msteams/agent-leg/conversations/tab\tnew line\n\u0001\u007f`,
      `msteams/agent-leg/conversations/${'x'.repeat(2_000)}`,
      'msteams/agent-leg/conversations/Conv-A',
      'msteams/agent-leg/conversations/conv-a',
    ];
    await storage.write(Object.fromEntries(keys.map((key, i) => [key, { agentLeg: { n: i } }])));

    const items = await storage.read(keys);

    expect(keys.map((key) => (items[key] as { agentLeg: unknown } | undefined)?.agentLeg)).toEqual(keys.map((_, i) => ({ n: i })));
    await storage.delete([keys[0] ?? '']);
    expect(Object.keys(await storage.read(keys)).sort()).toEqual(keys.slice(1).sort());
  });

  it('reading no keys is refused', async () => {
    await expect(storageOf()().read([])).rejects.toThrow(ReferenceError);
  });
});

describe('TableConversationStorage on Azurite', () => {
  it('a write with an eTag for a conversation deleted since is refused, so a late turn does not bring ended state back', async () => {
    const tables = workerTables();
    const storage = new TableConversationStorage(tables());
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'disposition' } } });
    const eTag = ((await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY] as { eTag: string }).eTag;
    await new TableConversationStorage(tables()).delete([CONVERSATION_KEY]);

    await expect(storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'handing-off' }, eTag } })).rejects.toThrow(/eTag conflict/);
    expect(await storage.read([CONVERSATION_KEY])).toEqual({});
  });

  it('a state larger than one property (60 transcript entries, 380,000 characters) is stored and read back whole', async () => {
    const storage = new TableConversationStorage(workerTables()());
    const transcript = Array.from({ length: 60 }, (_, i) => ({ from: 'customer', text: `${i}`.padEnd(6_000, 'é'), at: '2026-03-07T23:00:00Z' }));
    transcript[0] = { from: 'agent', text: 'x'.repeat(20_000), at: '2026-03-07T23:00:00Z' };
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { transcript } } });
    const back = await storage.read([CONVERSATION_KEY]);
    expect((back[CONVERSATION_KEY] as { agentLeg: { transcript: unknown } }).agentLeg.transcript).toEqual(transcript);
    // A shorter state later drops the parts it no longer needs.
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'ended' } } });
    expect((await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY]).toMatchObject({ agentLeg: { step: 'ended' } });
  });

  it('a state past what one entity can hold is refused with a clear error and the stored state is unchanged', async () => {
    const storage = new TableConversationStorage(workerTables()());
    await storage.write({ [CONVERSATION_KEY]: { agentLeg: { step: 'purpose' } } });
    const huge = { agentLeg: { transcript: [{ from: 'customer', text: 'y'.repeat(MAX_STATE_BYTES), at: '' }] } };
    await expect(storage.write({ [CONVERSATION_KEY]: huge })).rejects.toThrow(ConversationStateTooLarge);
    expect((await storage.read([CONVERSATION_KEY]))[CONVERSATION_KEY]).toMatchObject({ agentLeg: { step: 'purpose' } });
  });

  it('writing no changes is refused', async () => {
    await expect(new TableConversationStorage(workerTables()()).write({})).rejects.toThrow(ReferenceError);
  });

  it('one call served by two workers in turn: the second continues where the first left off', async () => {
    const tables = workerTables();
    const worker = () =>
      createMessagesHandler({
        settings: parseAgentLegSettings({}),
        ports: {
          engagements: { getEngagement: (id) => catalog.engagements.get(id) },
          capacity: new StaticQueueCapacity({ 'renewals-voice': true }),
          outcomes: new InMemoryOutcomeRecorder(),
          storage: new TableConversationStorage(tables()),
          now: () => new Date('2026-03-07T23:00:00Z'),
        },
      });
    const post = async (handler: ReturnType<typeof worker>, activity: Record<string, unknown>) => {
      const body = {
        channelId: 'msteams',
        deliveryMode: 'expectReplies',
        from: { id: 'customer-1' },
        recipient: { id: 'agent-leg', name: 'Agent leg' },
        conversation: { id: 'conv-1' },
        id: `activity-${Math.random().toString(36).slice(2)}`,
        ...activity,
      };
      const request = new HttpRequest({
        method: 'POST',
        url: 'http://localhost:7071/api/messages',
        body: { string: JSON.stringify(body) },
        headers: { 'content-type': 'application/json' },
      });
      const response: HttpResponseInit = await handler(request, new InvocationContext({ functionName: 'messages' }));
      const wire = JSON.parse(JSON.stringify(response.jsonBody ?? {})) as { activities?: { text?: string }[] };
      return { status: response.status ?? 200, texts: (wire.activities ?? []).map((a) => a.text) };
    };

    const greeting = await post(worker(), { type: 'event', name: 'startConversation', value: anaContextValue });
    const purpose = await post(worker(), { type: 'message', text: 'yes, speaking' });

    expect(greeting).toMatchObject({ status: 200, texts: [expect.stringContaining('Am I speaking with Ana?')] });
    expect(purpose.status).toBe(200);
    expect(purpose.texts[0]).toContain('your home insurance policy HP-4471 renews on Friday, March 20');
    const stored = await new TableConversationStorage(tables()).read([CONVERSATION_KEY]);
    expect((stored[CONVERSATION_KEY] as { agentLeg?: unknown } | undefined)?.agentLeg).toMatchObject({
      step: 'disposition',
      rightPartyConfirmed: true,
      context: { deliveryId: 'd-1001' },
    });
  });
});
