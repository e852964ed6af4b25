import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { startDataverseStandIn } from '../../../dev/dataverse/dataverseStandIn.js';
import { Dynamics365Dialer } from '../../../src/dialers/dynamics365/dynamics365Dialer.js';
import { LocalStandInCredential } from '../../../src/dialers/dynamics365/localStandInCredential.js';

const KEY = 'test-only-stand-in-key-0123456789';
const CONFIG_ID = '47089bbe-deb7-4f11-b8e6-000d3a36a6b3';

describe('Dataverse client on an injected clock', () => {
  it('reuses a token until 2 minutes before it expires on the injected clock, whatever the wall clock says', async () => {
    // Far from the wall clock on purpose: a token cache reading Date.now would see every token as long
    // expired (and ask for one per request), or as valid for ever (and send expired ones).
    let now = Date.parse('2031-03-01T09:00:00Z');
    const clock = () => now;
    const standIn = await startDataverseStandIn({
      tokenKey: KEY,
      now: clock,
      configs: [
        {
          msdyn_proactive_engagement_configid: CONFIG_ID,
          msdyn_name: 'E',
          msdyn_dial_mode: 'Progressive',
          msdyn_primary_queue: 'q',
          msdyn_max_calls_per_representative: 1,
          engagementId: 'e',
        },
      ],
      telephony: { place: () => undefined },
    });
    const issued: AccessToken[] = [];
    const inner = new LocalStandInCredential(KEY, clock);
    const credential: TokenCredential = {
      async getToken(scopes, options) {
        const token = await inner.getToken(scopes, options);
        issued.push(token);
        return token;
      },
    };
    const dialer = new Dynamics365Dialer({ orgUrl: standIn.url, credential, now: clock });
    try {
      expect(await dialer.readEngagementConfig(CONFIG_ID)).toMatchObject({ ok: true, status: 200 });
      now += 50 * 60_000;
      expect(await dialer.readEngagementConfig(CONFIG_ID)).toMatchObject({ ok: true, status: 200 });
      expect(issued).toHaveLength(1);
      // 59 minutes on: inside the 2-minute margin of the 60-minute token, so a fresh one is asked for.
      now += 9 * 60_000;
      expect(await dialer.readEngagementConfig(CONFIG_ID)).toMatchObject({ ok: true, status: 200 });
      expect(issued).toHaveLength(2);
      expect(standIn.stats.requests.refused).toBe(0);
    } finally {
      await standIn.stop();
    }
  });
});
