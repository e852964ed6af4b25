import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { type StandInEngagementConfig, startDataverseStandIn } from '../../../dev/dataverse/dataverseStandIn.js';
import { checkEngagementConfigs } from '../../../src/dialers/dynamics365/checkEngagementConfigs.js';
import { Dynamics365Dialer } from '../../../src/dialers/dynamics365/dynamics365Dialer.js';
import { LocalStandInCredential } from '../../../src/dialers/dynamics365/localStandInCredential.js';
import { createBackEnd } from '../../../src/dispatch/createBackEnd.js';
import { type EngagementCatalog, parseEngagementFile } from '../../../src/engagement/loadEngagementFile.js';
import { UserError } from '../../../src/errors.js';
import { loadSettings } from '../../../src/settings/settings.js';
import { isolateNetwork } from '../../support/isolateNetwork.js';
import { testTables } from '../../support/tables.js';
import { type FakeEntra, fakeEntra } from './fakeEntra.js';

const ORG_URL = 'https://contoso.crm.dynamics.com';
const API = '/api/data/v9.2';
const TOKEN_KEY = 'test-only-stand-in-key-0123456789';
const PROGRESSIVE_ID = '47089bbe-deb7-4f11-b8e6-000d3a36a6b3';
const PREVIEW_ID = '9a3c2b1d-5e4f-4a6b-8c7d-0e1f2a3b4c5d';
const allDay = [{ start: '00:00', end: '24:00' }];
const days = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };

function engagement(id: string, dynamicsConfigId: string | undefined, dialMode: object, primaryQueue = 'sales') {
  return {
    id,
    name: id,
    ...(dynamicsConfigId === undefined ? {} : { dynamicsConfigId }),
    workstream: 'ws',
    channel: 'voice',
    routing: { primaryQueue },
    type: 'representative-led',
    dialMode,
    phoneOrder: ['mobile'],
    quietHours: { mobile: [] },
    legalHours: { start: '00:00', end: '24:00' },
    timeZonePolicy: 'utc',
  };
}

function catalogOf(...engagements: object[]): EngagementCatalog {
  return parseEngagementFile({
    queues: ['sales', 'service'].map((name) => ({
      name,
      operatingHours: { timeZone: 'UTC', days },
      representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
    })),
    engagements,
  });
}

/** What an administrator set up in Dynamics 365 for the two engagements of the file below. */
const matching: StandInEngagementConfig[] = [
  {
    msdyn_proactive_engagement_configid: PROGRESSIVE_ID,
    msdyn_name: 'renewals',
    msdyn_dial_mode: 'Progressive',
    msdyn_primary_queue: 'Sales',
    msdyn_max_calls_per_representative: 2,
    engagementId: 'renewals',
  },
  {
    msdyn_proactive_engagement_configid: PREVIEW_ID,
    msdyn_name: 'callbacks',
    msdyn_dial_mode: 'Preview',
    msdyn_primary_queue: 'service',
    msdyn_max_calls_per_representative: null,
    engagementId: 'callbacks',
  },
];

const file = () =>
  catalogOf(
    engagement('renewals', PROGRESSIVE_ID, { mode: 'progressive', maxCallsPerRepresentative: 2 }),
    engagement('callbacks', PREVIEW_ID, { mode: 'preview' }, 'service'),
  );

async function standInWith(configs: StandInEngagementConfig[]) {
  return startDataverseStandIn({ tokenKey: TOKEN_KEY, configs, telephony: { place: () => undefined } });
}

async function check(catalog: EngagementCatalog, dialer: Dynamics365Dialer): Promise<{ error: unknown; warnings: string[] }> {
  const warnings: string[] = [];
  const error = await checkEngagementConfigs(catalog.engagements.values(), dialer, (m) => warnings.push(m)).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, warnings };
}

/** GET msdyn_proactive_engagement_configs(<id>)?$select=... (nock matches the path with its query). */
const configPath = new RegExp(`^${API}/msdyn_proactive_engagement_configs\\(${PROGRESSIVE_ID}\\)\\?`);

isolateNetwork();
// The stand-in listens on loopback; everything else stays faked by nock.
beforeAll(() => nock.enableNetConnect('127.0.0.1'));

describe('start-up check of the engagement configs, on the stand-in', () => {
  it('engagements that match their configs (queue names in any case) pass without a warning, through the back-end start-up check', async () => {
    const standIn = await standInWith(matching);
    const settings = loadSettings({
      ENGAGEMENTS_FILE: 'e.json',
      ServiceBusConnection: 'Endpoint=sb://x/;SharedAccessKey=k',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      DIALER_BACKEND: 'dynamics365',
      DATAVERSE_URL: standIn.url,
      DATAVERSE_LOCAL_TOKEN_KEY: TOKEN_KEY,
      PRESENCE_SOURCE: 'simulator',
    });
    const logs: string[] = [];
    const back = createBackEnd({
      settings,
      catalog: file(),
      tables: testTables(),
      simulatorClock: undefined,
      record: () => Promise.resolve(),
      log: (l) => logs.push(l),
    });
    try {
      expect(back.checkAtStart).toBeDefined();
      await back.checkAtStart?.();
      expect(logs).toEqual([]);
      expect(standIn.stats.requests.ok).toBe(2);
    } finally {
      back.close();
      await standIn.stop();
    }
  });

  it('a dial mode apart, a missing config and an engagement without a config id fail the start together; queue and max calls warn', async () => {
    const standIn = await standInWith([
      { ...matching[0]!, msdyn_dial_mode: 'Predictive', msdyn_primary_queue: 'Collections', msdyn_max_calls_per_representative: 3 },
    ]);
    const dialer = new Dynamics365Dialer({ orgUrl: standIn.url, credential: new LocalStandInCredential(TOKEN_KEY) });
    try {
      const catalog = catalogOf(
        engagement('renewals', PROGRESSIVE_ID, { mode: 'progressive', maxCallsPerRepresentative: 2 }),
        engagement('callbacks', PREVIEW_ID, { mode: 'preview' }, 'service'),
        engagement('adhoc', undefined, { mode: 'progressive' }),
      );
      const { error, warnings } = await check(catalog, dialer);
      expect(error).toBeInstanceOf(UserError);
      const message = (error as Error).message;
      expect(message).toContain(
        `engagement renewals (Dynamics 365 config ${PROGRESSIVE_ID}): dial mode is progressive in the engagement file but Predictive in Dynamics 365`,
      );
      expect(message).toContain(`engagement callbacks: Dynamics 365 has no msdyn_proactive_engagement_config ${PREVIEW_ID} (HTTP 404, 0x80040217)`);
      expect(message).toContain('engagement adhoc has no dynamicsConfigId');
      expect(warnings).toEqual([
        `engagement renewals (Dynamics 365 config ${PROGRESSIVE_ID}): primary queue is sales in the engagement file but Collections in Dynamics 365`,
        `engagement renewals (Dynamics 365 config ${PROGRESSIVE_ID}): max calls per representative is 2 in the engagement file but 3 in Dynamics 365; pacing hands over fewer calls than Dynamics 365 could place`,
      ]);
    } finally {
      await standIn.stop();
    }
  });
});

describe('start-up check of the engagement configs, recorded Dataverse shapes (nock)', () => {
  let entra: FakeEntra;

  const dialer = () =>
    new Dynamics365Dialer({
      orgUrl: ORG_URL,
      credential: entra.credential,
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 40, maxTotalMs: 5_000, requestTimeoutMs: 2_000 },
      random: () => 0.5,
    });

  it('reads choice and lookup labels from the formatted-value annotations it asks for; one read per config', async () => {
    entra = fakeEntra();
    let prefer = '';
    let select = '';
    const scope = nock(ORG_URL)
      .get(configPath)
      .reply((request: Request) => {
        prefer = String(request.headers.get('prefer'));
        select = new URL(request.url).searchParams.get('$select') ?? '';
        return [
          200,
          {
            '@odata.context': `${ORG_URL}${API}/$metadata#msdyn_proactive_engagement_configs(msdyn_name,msdyn_dial_mode)/$entity`,
            '@odata.etag': 'W/"4411873"',
            msdyn_name: 'renewals',
            msdyn_dial_mode: 192350001,
            'msdyn_dial_mode@OData.Community.Display.V1.FormattedValue': 'Progressive',
            _msdyn_primary_queue_value: '5f0d8e2c-1b3a-4c5d-9e8f-7a6b5c4d3e2f',
            '_msdyn_primary_queue_value@OData.Community.Display.V1.FormattedValue': 'Sales',
            msdyn_max_calls_per_representative: 2,
          },
          { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' },
        ];
      });
    const catalog = catalogOf(
      engagement('renewals', PROGRESSIVE_ID, { mode: 'progressive', maxCallsPerRepresentative: 2 }),
      engagement('renewals-2', PROGRESSIVE_ID, { mode: 'progressive', maxCallsPerRepresentative: 2 }),
    );
    const { error, warnings } = await check(catalog, dialer());
    expect(error).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(prefer).toBe('odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
    expect(select).toBe('msdyn_name,msdyn_dial_mode,msdyn_primary_queue,msdyn_max_calls_per_representative');
    expect(scope.isDone()).toBe(true);
  });

  it('a throttled or failing Dataverse at start is a warning (the calls wait for it); a refused caller fails the start', async () => {
    entra = fakeEntra();
    // Retry-After 120 s is past the 5 s budget: one try, then the throttle is kept for the ticks.
    const throttledScope = nock(ORG_URL)
      .get(configPath)
      .reply(
        429,
        { error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } },
        { 'Retry-After': '120' },
      );
    const throttled = await check(catalogOf(engagement('renewals', PROGRESSIVE_ID, { mode: 'progressive' })), dialer());
    expect(throttledScope.isDone()).toBe(true);
    expect(throttled.error).toBeUndefined();
    expect(throttled.warnings).toHaveLength(1);
    expect(throttled.warnings[0]).toMatch(/^engagement renewals: its Dynamics 365 config .* could not be read at start-up \(not checked\): .*HTTP 429/);

    nock(ORG_URL)
      .get(configPath)
      .reply(403, { error: { code: '0x80040220', message: 'Principal user is missing prvReadmsdyn_proactive_engagement_config privilege' } });
    const refused = await check(catalogOf(engagement('renewals', PROGRESSIVE_ID, { mode: 'progressive' })), dialer());
    expect(refused.error).toBeInstanceOf(UserError);
    expect((refused.error as Error).message).toMatch(
      /engagement renewals: Dataverse msdyn_proactive_engagement_config read refused the caller \(HTTP 403, 0x80040220\)/,
    );
  });
});
