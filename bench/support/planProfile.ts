/**
 * Pure planning alone, the intake bench's two planning steps without the broker and Azurite:
 * `npx tsx bench/support/planProfile.ts [rounds]` plans the bench page (numbers repeat) and a page of
 * all-distinct numbers with the former planner and the planner now, `rounds` times each, and prints
 * each round. Run under `node --cpu-prof --import tsx` to see where the time goes.
 */
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { benchEngagementFile, ndjsonPage } from './intakeFixture.js';
import { comparePlanning, describePlanning } from './planningComparison.js';

const rounds = Number(process.argv[2] ?? 3);
const members = 100_000;
const catalog = parseEngagementFile(benchEngagementFile);
const engagement = catalog.engagements.get('bench');
const queue = catalog.queues.get('q');
if (engagement === undefined || queue === undefined) throw new Error('bench engagement missing');
const state = { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined };
const now = Date.now();
const page = (first: number, distinctPhones: boolean) =>
  ndjsonPage(first, members, { distinctPhones })
    .split('\n')
    .map((line) => ({ contact: contactInputSchema.parse(JSON.parse(line)), source: `segment:s/r/${first}` }));
const repeated = page(0, false);
const distinct = page(members, true);
for (let round = 1; round <= rounds; round++) {
  console.log(describePlanning(`round ${round}: plan (pure)`, members, comparePlanning({ engagement, queue, contacts: repeated, state, now })));
  console.log(describePlanning(`round ${round}: all-distinct numbers`, members, comparePlanning({ engagement, queue, contacts: distinct, state, now })));
}
