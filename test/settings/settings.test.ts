import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/settings/settings.js';

const minimal = {
  ENGAGEMENTS_FILE: 'e.json',
  ServiceBusConnection: 'Endpoint=sb://x/;SharedAccessKey=SECRET123',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

describe('settings', () => {
  it('in Azure (WEBSITE_SITE_NAME set) a missing DIALER_BACKEND or CALL_EVENTS_SIGNING_SECRET stops start-up, naming both; the secret is never echoed', () => {
    expect(() => loadSettings({ ...minimal, WEBSITE_SITE_NAME: 'contoso' })).toThrow(
      /DIALER_BACKEND: required in Azure[\s\S]*CALL_EVENTS_SIGNING_SECRET: required in Azure/,
    );
    const secret = 's'.repeat(40);
    expect(
      loadSettings({ ...minimal, WEBSITE_INSTANCE_ID: 'i-1', DIALER_BACKEND: 'simulator', CALL_EVENTS_SIGNING_SECRET: secret, DNC_HASH_KEY: secret })
        .DIALER_BACKEND,
    ).toBe('simulator');
    expect(() => loadSettings({ ...minimal, CALL_EVENTS_SIGNING_SECRET: 'short-SECRET' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('short-SECRET') }),
    );
    expect(loadSettings(minimal).DIALER_BACKEND).toBe('simulator');
  });

  it('in Azure a missing DNC_HASH_KEY stops start-up by name; a short one is refused without echoing it', () => {
    const secret = 's'.repeat(40);
    expect(() => loadSettings({ ...minimal, WEBSITE_SITE_NAME: 'contoso', DIALER_BACKEND: 'simulator', CALL_EVENTS_SIGNING_SECRET: secret })).toThrow(
      /DNC_HASH_KEY: required in Azure/,
    );
    expect(() => loadSettings({ ...minimal, DNC_HASH_KEY: 'short-DNC-KEY' })).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/DNC_HASH_KEY: expected at least 32 characters/) && expect.not.stringContaining('short-DNC-KEY'),
      }),
    );
    expect(loadSettings(minimal).DNC_HASH_KEY).toBeUndefined();
  });

  it('fills defaults and freezes', () => {
    const s = loadSettings(minimal);
    expect(s).toMatchObject({ CONTACT_BATCHES_QUEUE: 'contact-batches', INTAKE_MAX_PAGE_SIZE: 100_000, BATCH_MAX_CONTACTS: 500, TABLE_PREFIX: '' });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('names every bad setting and never echoes a secret', () => {
    const run = () => loadSettings({ ...minimal, ServiceBusConnection: undefined, INTAKE_MAX_PAGE_SIZE: 'lots', AzureWebJobsStorage: '' });
    expect(run).toThrow(/ServiceBusConnection: set ServiceBusConnection \(connection string\) or ServiceBusConnection__fullyQualifiedNamespace/);
    expect(run).toThrow(/INTAKE_MAX_PAGE_SIZE: .*\(got "lots"\)/);
    expect(run).toThrow(/AzureWebJobsStorage: set AzureWebJobsStorage/);
    const badPrefix = () => loadSettings({ ...minimal, TABLE_PREFIX: '1bad' });
    expect(badPrefix).toThrow(/TABLE_PREFIX/);
    expect(badPrefix).toThrow(expect.objectContaining({ message: expect.not.stringContaining('SECRET123') }));
  });

  it('call events per request: 1000 by default, a positive whole number when set', () => {
    expect(loadSettings(minimal).CALL_EVENTS_MAX_EVENTS).toBe(1_000);
    expect(loadSettings({ ...minimal, CALL_EVENTS_MAX_EVENTS: '250' }).CALL_EVENTS_MAX_EVENTS).toBe(250);
    expect(() => loadSettings({ ...minimal, CALL_EVENTS_MAX_EVENTS: '0' })).toThrow(/CALL_EVENTS_MAX_EVENTS: .*\(got "0"\)/);
  });

  it('accepts identity-based connections instead of connection strings', () => {
    const s = loadSettings({
      ENGAGEMENTS_FILE: 'e.json',
      ServiceBusConnection__fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://contoso.table.core.windows.net',
    });
    expect(s.ServiceBusConnection).toBeUndefined();
  });

  it('plain http DATAVERSE_URL only on loopback, and then with the stand-in token key (never echoed)', () => {
    const d365 = { ...minimal, DIALER_BACKEND: 'dynamics365' };
    expect(() => loadSettings({ ...d365, DATAVERSE_URL: 'http://contoso.crm.dynamics.com' })).toThrow(
      /DATAVERSE_URL: .*plain http only for the local stand-in/,
    );
    expect(() => loadSettings({ ...d365, DATAVERSE_URL: 'http://127.0.0.1:7072' })).toThrow(
      /DATAVERSE_LOCAL_TOKEN_KEY: required when DATAVERSE_URL is the local stand-in/,
    );
    const key = 'a-local-signing-key-0123456789';
    const local = loadSettings({ ...d365, DATAVERSE_URL: 'http://127.0.0.1:7072', DATAVERSE_LOCAL_TOKEN_KEY: key, PRESENCE_SOURCE: 'simulator' });
    expect(local).toMatchObject({ DATAVERSE_URL: 'http://127.0.0.1:7072', PRESENCE_SOURCE: 'simulator' });
    expect(() => loadSettings({ ...d365, DATAVERSE_URL: 'https://contoso.crm.dynamics.com', PRESENCE_SOURCE: 'simulator' })).toThrow(/PRESENCE_SOURCE/);
    let message = '';
    try {
      loadSettings({ ...d365, DATAVERSE_URL: 'http://127.0.0.1:7072', DATAVERSE_LOCAL_TOKEN_KEY: 'short' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DATAVERSE_LOCAL_TOKEN_KEY/);
    expect(message).not.toContain('short');
  });
});
