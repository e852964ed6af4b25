import type { TokenCredential } from '@azure/identity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { UserError, toFieldIssues } from '../errors.js';
import { createGraphClient, graphRetryOptionsSchema } from './graphClient.js';
import { graphFailure } from './graphFailure.js';
import { AVAILABILITIES, type Availability, type PresencePort } from './presencePort.js';

/** Graph's documented maximum of user ids per getPresencesByUserId request. */
export const PRESENCE_IDS_PER_REQUEST = 650;

/** Presence younger than this is served from memory: a pacing tick reads each representative once. */
export const DEFAULT_PRESENCE_TTL_MS = 10_000;

const isFunction = (value: unknown): boolean => typeof value === 'function';

export const graphPresenceOptionsSchema = z.strictObject({
  credential: z.custom<TokenCredential>(
    (value) => typeof value === 'object' && value !== null && isFunction((value as { getToken?: unknown }).getToken),
    'expected a TokenCredential from @azure/identity (an object with getToken)',
  ),
  /** 0 turns the cache off. */
  cacheTtlMs: z.int().min(0).max(300_000).default(DEFAULT_PRESENCE_TTL_MS),
  retry: graphRetryOptionsSchema.prefault({}),
  /** The clock (ms since epoch) the cache ages by; injected for tests. */
  now: z.custom<() => number>(isFunction, 'expected a function returning ms since epoch').optional(),
});
export type GraphPresenceOptionsInput = z.input<typeof graphPresenceOptionsSchema>;

/** The part of Graph's presence resource we read; other properties are ignored. */
const presencesResponseSchema = z.object({
  value: z.array(z.object({ id: z.string(), availability: z.string().nullish(), activity: z.string().nullish() })),
});

const KNOWN_AVAILABILITIES: ReadonlySet<string> = new Set(AVAILABILITIES);

/** Graph may add availability values; anything we do not know counts as unknown (never as available). */
export function toAvailability(value: string | null | undefined): Availability {
  return isAvailability(value) ? value : 'PresenceUnknown';
}

function isAvailability(value: string | null | undefined): value is Availability {
  return value !== null && value !== undefined && KNOWN_AVAILABILITIES.has(value);
}

interface CachedPresence {
  readonly availability: Availability;
  readonly fetchedAt: number;
}

/**
 * Representatives' presence from Microsoft Graph (`POST /communications/getPresencesByUserId`,
 * application permission Presence.Read.All), in requests of at most 650 ids, cached per user for
 * `cacheTtlMs`. Concurrent callers asking for the same user share one Graph request.
 */
export class GraphPresence implements PresencePort {
  private readonly client: Client;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CachedPresence>();
  private readonly inFlight = new Map<string, Promise<Availability>>();

  constructor(input: GraphPresenceOptionsInput) {
    const parsed = graphPresenceOptionsSchema.safeParse(input);
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.error);
      const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new UserError('InvalidSettings', `invalid Graph presence options: ${list}`, issues);
    }
    this.client = createGraphClient({ credential: parsed.data.credential, retry: parsed.data.retry });
    this.ttlMs = parsed.data.cacheTtlMs;
    this.now = parsed.data.now ?? Date.now;
  }

  async getAvailability(userIds: readonly string[]): Promise<Map<string, Availability>> {
    const now = this.now();
    this.evictExpired(now);
    const pending = new Map<string, Promise<Availability>>();
    const missing: string[] = [];
    for (const userId of new Set(userIds)) {
      const key = userId.toLowerCase();
      if (pending.has(key)) continue;
      const cached = this.cache.get(key);
      const shared = this.inFlight.get(key);
      if (cached !== undefined && now - cached.fetchedAt < this.ttlMs) pending.set(key, Promise.resolve(cached.availability));
      else if (shared !== undefined) pending.set(key, shared);
      else missing.push(key);
    }
    for (let offset = 0; offset < missing.length; offset += PRESENCE_IDS_PER_REQUEST) {
      const chunk = missing.slice(offset, offset + PRESENCE_IDS_PER_REQUEST);
      const request = this.fetchChunk(chunk);
      for (const key of chunk) {
        const one = request.then((found) => found.get(key) ?? 'PresenceUnknown');
        // Every caller awaits `one` through Promise.all below; this only stops an unobserved rejection.
        one.catch(() => undefined);
        this.inFlight.set(key, one);
        pending.set(key, one);
      }
    }
    const keys = [...pending.keys()];
    const values = await Promise.all(keys.map((key) => pending.get(key) ?? Promise.resolve<Availability>('PresenceUnknown')));
    const byKey = new Map(keys.map((key, index) => [key, values[index] ?? 'PresenceUnknown']));
    return new Map(userIds.map((userId) => [userId, byKey.get(userId.toLowerCase()) ?? 'PresenceUnknown']));
  }

  /** One Graph request; fills the cache on success and always clears the in-flight marks. */
  private async fetchChunk(keys: readonly string[]): Promise<Map<string, Availability>> {
    try {
      const body: unknown = await this.client.api('/communications/getPresencesByUserId').post({ ids: keys });
      const parsed = presencesResponseSchema.safeParse(body);
      if (!parsed.success) {
        throw graphFailure(
          new Error(
            `unexpected response shape: ${toFieldIssues(parsed.error)
              .map((i) => `${i.path}: ${i.message}`)
              .join('; ')}`,
          ),
          'Graph getPresencesByUserId',
          'Presence.Read.All',
        );
      }
      const found = new Map<string, Availability>();
      for (const presence of parsed.data.value) found.set(presence.id.toLowerCase(), toAvailability(presence.availability));
      const fetchedAt = this.now();
      for (const key of keys) this.cache.set(key, { availability: found.get(key) ?? 'PresenceUnknown', fetchedAt });
      return found;
    } catch (thrown) {
      throw graphFailure(thrown, 'Graph getPresencesByUserId', 'Presence.Read.All');
    } finally {
      for (const key of keys) this.inFlight.delete(key);
    }
  }

  private evictExpired(now: number): void {
    for (const [key, entry] of this.cache) {
      if (now - entry.fetchedAt >= this.ttlMs) this.cache.delete(key);
    }
  }
}
