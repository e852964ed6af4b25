import { afterEach, describe, expect, it } from 'vitest';
import { type DataverseStandIn, startDataverseStandIn } from '../../dev/dataverse/dataverseStandIn.js';
import { LocalStandInCredential, signLocalToken } from '../../src/dialers/dynamics365/localStandInCredential.js';

const KEY = 'test-only-stand-in-key-0123456789';
let standIn: DataverseStandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

async function start(): Promise<DataverseStandIn> {
  standIn = await startDataverseStandIn({ tokenKey: KEY, configs: [], telephony: { place: () => undefined } });
  return standIn;
}

async function token(audience: string): Promise<string> {
  return (await new LocalStandInCredential(KEY).getToken(`${audience}/.default`)).token;
}

describe('Dataverse stand-in', () => {
  it('refuses a token for another audience, a bad signature and no token, with OData errors', async () => {
    const s = await start();
    const url = `${s.url}/api/data/v9.2/msdyn_proactive_deliveries`;
    const wrongAudience = await fetch(url, { headers: { Authorization: `Bearer ${await token('https://graph.microsoft.com')}` } });
    expect(wrongAudience.status).toBe(401);
    expect(await wrongAudience.json()).toMatchObject({ error: { code: '0x80072560', message: expect.stringContaining('audience') as unknown } });
    const forged = signLocalToken({ aud: s.url, iss: 'local-dataverse-stand-in', exp: 9_999_999_999 }, 'another-key-0123456789');
    expect((await fetch(url, { headers: { Authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${await token(s.url)}` } })).status).toBe(200);
  });

  it('records msdynmkt_* custom-trigger calls and exposes them on /_standin/msdynmkt-calls', async () => {
    const s = await start();
    const body = { msdynmkt_signaluserauthid: 'contact-1', msdynmkt_signaltimestamp: '2026-11-25T15:00:00Z', msdynmkt_result: 'LiveAnswer' };
    const response = await fetch(`${s.url}/api/data/v9.2/msdynmkt_ProactiveCallCompleted`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await token(s.url)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(204);
    const calls = (await (await fetch(`${s.url}/_standin/msdynmkt-calls`)).json()) as { value: unknown[] };
    expect(calls.value).toEqual([{ action: 'msdynmkt_ProactiveCallCompleted', body, at: expect.any(String) as unknown }]);
  });

  it('an unknown action or config is a 404 OData error', async () => {
    const s = await start();
    const headers = { Authorization: `Bearer ${await token(s.url)}`, 'Content-Type': 'application/json' };
    const unknown = await fetch(`${s.url}/api/data/v9.2/CCaaS_NoSuchAction`, { method: 'POST', headers, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: '0x80060888' } });
    const config = await fetch(`${s.url}/api/data/v9.2/CCaaS_CreateProactiveDelivery`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ApiVersion: '1.0', ProactiveEngagementConfigId: '00000000-0000-4000-8000-000000000000', RequestId: 'r', Contacts: '[]' }),
    });
    expect(config.status).toBe(404);
  });
});
