import { describe, expect, it } from 'vitest';
import { Registry, type Compose, type Composed } from '../../src/app/registry.js';
import { loadSettings, type Settings } from '../../src/settings/settings.js';

const settings = loadSettings({ ENGAGEMENTS_FILE: 'e.json', ServiceBusConnection: 'Endpoint=sb://x/', AzureWebJobsStorage: 'UseDevelopmentStorage=true' });

function countingLoader() {
  const loader = { loads: 0, load: (): Settings => (loader.loads++, settings) };
  return loader;
}

/** A capability that records its compositions and closes into `log`. */
function capability<T>(name: string, log: string[], build: (context: Parameters<Compose<T>>[0]) => Promise<T>): Compose<T> {
  return async (context): Promise<Composed<T>> => {
    const value = await build(context);
    log.push(`compose ${name}`);
    return { value, close: () => void log.push(`close ${name}`) };
  };
}

describe('Registry', () => {
  it('reads the settings once for every capability and every use', async () => {
    const loader = countingLoader();
    const registry = new Registry(loader.load);
    const log: string[] = [];
    const base = capability('base', log, async (c) => c.settings().CONTACT_BATCHES_QUEUE);
    const top = capability('top', log, async (c) => `${await c.use(base)}+${c.settings().TABLE_PREFIX}`);
    expect(await registry.use(top)).toBe('contact-batches+');
    expect(await registry.use(base)).toBe('contact-batches');
    expect(await registry.use(top)).toBe('contact-batches+');
    expect(loader.loads).toBe(1);
    expect(log).toEqual(['compose base', 'compose top']);
  });

  it('concurrent first uses share one composition', async () => {
    const registry = new Registry(countingLoader().load);
    let composed = 0;
    const slow: Compose<object> = async () => {
      composed++;
      await Promise.resolve();
      return { value: {} };
    };
    const [a, b] = await Promise.all([registry.use(slow), registry.use(slow)]);
    expect(a).toBe(b);
    expect(composed).toBe(1);
  });

  it('invalid settings are read again at the next use, not kept', async () => {
    let loads = 0;
    const registry = new Registry(() => {
      loads++;
      if (loads === 1) throw new Error('ENGAGEMENTS_FILE: required');
      return settings;
    });
    const needsSettings: Compose<string> = async (c) => ({ value: c.settings().CONTACT_BATCHES_QUEUE });
    await expect(registry.use(needsSettings)).rejects.toThrow('ENGAGEMENTS_FILE');
    expect(await registry.use(needsSettings)).toBe('contact-batches');
    expect(loads).toBe(2);
  });

  it('a failed composition is tried again at the next use', async () => {
    const registry = new Registry(countingLoader().load);
    let attempts = 0;
    const flaky: Compose<string> = async () => {
      attempts++;
      if (attempts === 1) throw new Error('engagement file missing');
      return { value: 'ready' };
    };
    await expect(registry.use(flaky)).rejects.toThrow('engagement file missing');
    expect(await registry.use(flaky)).toBe('ready');
    expect(await registry.use(flaky)).toBe('ready');
    expect(attempts).toBe(2);
  });

  it('dispose closes every composition, dependents first, and the next use starts afresh', async () => {
    const loader = countingLoader();
    const registry = new Registry(loader.load);
    const log: string[] = [];
    const foundation = capability('foundation', log, async (c) => {
      c.settings();
      return 'f';
    });
    const dispatch = capability('dispatch', log, async (c) => `${await c.use(foundation)}d`);
    const agentLeg = capability('agentLeg', log, async (c) => `${await c.use(dispatch)}a`);
    const intake = capability('intake', log, async (c) => `${await c.use(foundation)}i`);
    await registry.use(agentLeg);
    await registry.use(intake);
    expect(loader.loads).toBe(1);

    await registry.dispose();
    expect(log).toEqual([
      'compose foundation',
      'compose dispatch',
      'compose agentLeg',
      'compose intake',
      'close intake',
      'close agentLeg',
      'close dispatch',
      'close foundation',
    ]);

    log.length = 0;
    expect(await registry.use(intake)).toBe('fi');
    expect(log).toEqual(['compose foundation', 'compose intake']);
    expect(loader.loads).toBe(2);
  });

  it('dispose waits for a composition still in progress and closes it with what it builds on', async () => {
    const registry = new Registry(countingLoader().load);
    const log: string[] = [];
    let finish: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const base = capability('base', log, async () => 'base');
    const slow = capability('slow', log, async (c) => {
      await started;
      return `${await c.use(base)}+late`;
    });
    const using = registry.use(slow);
    const disposing = registry.dispose();
    finish();
    await disposing;
    expect(await using).toBe('base+late');
    expect(log).toEqual(['compose base', 'compose slow', 'close slow', 'close base']);

    log.length = 0;
    await registry.use(base);
    expect(log).toEqual(['compose base']);
  });

  it('every close is attempted when one fails, and the failure is reported', async () => {
    const registry = new Registry(countingLoader().load);
    const closed: string[] = [];
    const breaks: Compose<string> = async () => ({ value: 'a', close: () => Promise.reject(new Error('broker gone')) });
    const fine: Compose<string> = async () => ({ value: 'b', close: () => void closed.push('fine') });
    await registry.use(breaks);
    await registry.use(fine);
    await expect(registry.dispose()).rejects.toThrow('broker gone');
    expect(closed).toEqual(['fine']);
  });

  it('a provided capability replaces its composition until dispose', async () => {
    const registry = new Registry(countingLoader().load);
    const real: Compose<string> = async () => ({ value: 'real' });
    registry.provide(real, () => 'stand-in');
    expect(await registry.use(real)).toBe('stand-in');
    await registry.dispose();
    expect(await registry.use(real)).toBe('real');
  });
});
