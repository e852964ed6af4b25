import { randomBytes } from 'node:crypto';
import { configsFromEngagementFile } from './configsFromEngagementFile.js';
import { type DataverseStandIn, startDataverseStandIn } from './dataverseStandIn.js';
import { SeededTelephony } from './seededTelephony.js';

/**
 * Starts the stand-in for `npm start` and points the app at it: DATAVERSE_URL, a fresh token key
 * (DATAVERSE_LOCAL_TOKEN_KEY, shared with the app's local credential), and simulated presence unless
 * PRESENCE_SOURCE says otherwise. DATAVERSE_THROTTLE_EVERY_NTH / DATAVERSE_THROTTLE_SECONDS turn on
 * the 429 storm.
 */
export async function startLocalDataverse(port: number): Promise<DataverseStandIn> {
  const tokenKey = randomBytes(32).toString('base64url');
  const everyNth = Number(process.env['DATAVERSE_THROTTLE_EVERY_NTH'] ?? 0);
  const seconds = Number(process.env['DATAVERSE_THROTTLE_SECONDS'] ?? 10);
  const standIn = await startDataverseStandIn({
    port,
    tokenKey,
    configs: configsFromEngagementFile(process.env['ENGAGEMENTS_FILE'] ?? ''),
    telephony: new SeededTelephony(Number(process.env['SIMULATOR_SEED'] ?? 1), Number(process.env['SIMULATOR_TIME_SCALE'] ?? 1)),
    ...(everyNth > 0 ? { throttle: { everyNth, retryAfterSeconds: seconds } } : {}),
    log: (line) => console.log(`[dataverse] ${line}`),
  });
  process.env['DATAVERSE_URL'] = standIn.url;
  process.env['DATAVERSE_LOCAL_TOKEN_KEY'] = tokenKey;
  if ((process.env['PRESENCE_SOURCE'] ?? '') === '') process.env['PRESENCE_SOURCE'] = 'simulator';
  console.log(`Dataverse stand-in on ${standIn.url} (custom-trigger calls: GET ${standIn.url}/_standin/msdynmkt-calls)`);
  return standIn;
}
