/**
 * Planning alone, for profiling (`npx tsx bench/support/planProfile.ts [repeated|distinct] [rounds]`):
 * plans the intake bench page (or the all-distinct page) `rounds` times after a warm-up and prints
 * contacts/s per round. Run under `node --cpu-prof --import tsx` to see where the time goes.
 */
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { planDeliveries as planBefore } from '../../test/support/referencePlanDeliveries.js';
import { benchEngagementFile, ndjsonPage } from './intakeFixture.js';

const kind = process.argv[2] ?? 'repeated';
const rounds = Number(process.argv[3] ?? 3);
const which = process.argv[4] ?? 'now';
const members = 100_000;
const catalog = parseEngagementFile(benchEngagementFile);
const engagement = catalog.engagements.get('bench');
const queue = catalog.queues.get('q');
if (engagement === undefined || queue === undefined) throw new Error('bench engagement missing');
const state = { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined };
const now = Date.now();
const plan = which === 'before' ? planBefore : planDeliveries;
for (let round = 0; round <= rounds; round++) {
  // Each round a fresh page (new numbers on the distinct page, so no memo carries over).
  const first = kind === 'distinct' ? round * members : 0;
  const contacts = ndjsonPage(first, members, { distinctPhones: kind === 'distinct' })
    .split('\n')
    .map((line) => ({ contact: contactInputSchema.parse(JSON.parse(line)), source: 'segment:s/r/0' }));
  const t = performance.now();
  const result = plan({ engagement, queue, triggerId: 't', now, contacts, state });
  const ms = performance.now() - t;
  console.log(`${which} ${kind} round ${round}: ${ms.toFixed(0)} ms, ${Math.round(members / (ms / 1000))}/s, planned ${result.planned.length}`);
}
