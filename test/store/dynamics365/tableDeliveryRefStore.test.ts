import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DeliveryRefStore, InMemoryDeliveryRefStore } from '../../../src/dialers/dynamics365/deliveryRefStore.js';
import { Dynamics365Dialer } from '../../../src/dialers/dynamics365/dynamics365Dialer.js';
import { TableDeliveryRefStore } from '../../../src/store/dynamics365/tableDeliveryRefStore.js';
import { aiLedRequest } from '../../dialers/dynamics365/dialRequests.js';
import { fakeEntra } from '../../dialers/dynamics365/fakeEntra.js';
import { workerTables } from '../support/workerTables.js';

/** One store of one app as its workers see it: each call is the store of another worker. */
type WorkerStores = () => DeliveryRefStore;

const implementations: [string, () => WorkerStores][] = [
  [
    'InMemoryDeliveryRefStore',
    () => {
      const shared = new InMemoryDeliveryRefStore();
      return () => shared;
    },
  ],
  [
    'TableDeliveryRefStore on Azurite',
    () => {
      const tables = workerTables();
      return () => new TableDeliveryRefStore(tables());
    },
  ],
];

describe.each(implementations)('delivery ref store contract: %s', (_name, storesOf) => {
  it('a delivery never handed over has no ref', async () => {
    expect(await storesOf()().get('dlv-0001')).toBeUndefined();
  });

  it('keeps the attempt, the backend ref and the DeliveryTaskId of a single delivery; a bulk one has no task id', async () => {
    const store = storesOf()();
    await store.put('dlv-0001', {
      attempt: 1,
      backendRef: 'deliveryTask:68b36193-49cc-4749-8118-433a0e8c4b9a',
      deliveryTaskId: '68b36193-49cc-4749-8118-433a0e8c4b9a',
    });
    await store.put('dlv-0002', { attempt: 2, backendRef: 'bulk:2f1d6c1e-9b7a-4c52-8f3e-0a1b2c3d4e5f' });

    expect(await store.get('dlv-0001')).toStrictEqual({
      attempt: 1,
      backendRef: 'deliveryTask:68b36193-49cc-4749-8118-433a0e8c4b9a',
      deliveryTaskId: '68b36193-49cc-4749-8118-433a0e8c4b9a',
    });
    expect(await store.get('dlv-0002')).toStrictEqual({ attempt: 2, backendRef: 'bulk:2f1d6c1e-9b7a-4c52-8f3e-0a1b2c3d4e5f' });
  });

  it('a reattempt replaces the earlier attempt, task id included', async () => {
    const store = storesOf()();
    await store.put('dlv-0001', { attempt: 1, backendRef: 'deliveryTask:a', deliveryTaskId: 'a' });
    await store.put('dlv-0001', { attempt: 2, backendRef: 'bulk:b' });

    expect(await store.get('dlv-0001')).toStrictEqual({ attempt: 2, backendRef: 'bulk:b' });
  });

  it('delete forgets the delivery; deleting one never handed over is not an error', async () => {
    const store = storesOf()();
    await store.put('dlv-0001', { attempt: 1, backendRef: 'deliveryTask:a', deliveryTaskId: 'a' });

    await store.delete('dlv-0001');
    await store.delete('never-dialled');

    expect(await store.get('dlv-0001')).toBeUndefined();
  });

  it('delivery ids with characters Table keys forbid, one character long, or differing only in case are kept apart', async () => {
    const ids = ['a/b', 'a\\b', 'a#b', 'a?b', 'a%2fb', 'tab\there', '\u0001', 'x', 'DLV-1', 'dlv-1'];
    const store = storesOf()();
    await Promise.all(ids.map((id, i) => store.put(id, { attempt: i + 1, backendRef: `ref-${i}` })));

    const read = await Promise.all(ids.map((id) => store.get(id)));

    expect(read).toStrictEqual(ids.map((_, i) => ({ attempt: i + 1, backendRef: `ref-${i}` })));
  });

  it('what one worker stored, another worker reads', async () => {
    const workers = storesOf();
    await workers().put('dlv-0001', { attempt: 3, backendRef: 'deliveryTask:a', deliveryTaskId: 'a' });

    expect(await workers().get('dlv-0001')).toStrictEqual({ attempt: 3, backendRef: 'deliveryTask:a', deliveryTaskId: 'a' });
  });
});

describe('TableDeliveryRefStore behind the Dynamics 365 dialer', () => {
  const ORG_URL = 'https://contoso.crm.dynamics.com';
  const API = '/api/data/v9.2';

  beforeAll(() => {
    // Dataverse and Entra are faked; Azurite on loopback is real.
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(() => {
    nock.enableNetConnect();
  });

  it('after a restart on another worker, a repeat dial is answered without a second D365 delivery and cancel finds the DeliveryTaskId', async () => {
    const entra = fakeEntra();
    const created: string[] = [];
    const cancelled: string[] = [];
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .reply(async (request: Request) => {
        created.push(((await request.json()) as { RequestId: string }).RequestId);
        return [
          200,
          {
            '@odata.context': `${ORG_URL}${API}/$metadata#Microsoft.Dynamics.CRM.CCaaS_CreateProactiveDeliveryResponse`,
            DeliveryTaskId: '2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b',
          },
          { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' },
        ];
      })
      .persist();
    nock(ORG_URL)
      .post(`${API}/CCaaS_CancelDeliveryTask`)
      .reply(async (request: Request) => {
        cancelled.push(((await request.json()) as { DeliveryTaskId: string }).DeliveryTaskId);
        return [204, ''];
      })
      .persist();
    const tables = workerTables();
    const dialerOn = () => new Dynamics365Dialer({ orgUrl: ORG_URL, credential: entra.credential, refStore: new TableDeliveryRefStore(tables()) });

    const first = await dialerOn().dial([aiLedRequest(1)]);
    const repeat = await dialerOn().dial([aiLedRequest(1)]);
    await dialerOn().cancel(['dlv-0001']);
    await dialerOn().cancel(['dlv-0001']);

    expect(first).toEqual([{ deliveryId: 'dlv-0001', status: 'accepted', backendRef: 'deliveryTask:2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b' }]);
    expect(repeat).toEqual(first);
    expect(created).toHaveLength(1);
    expect(cancelled).toEqual(['2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b']);
    expect(await new TableDeliveryRefStore(tables()).get('dlv-0001')).toBeUndefined();
  });
});
