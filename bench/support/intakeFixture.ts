/**
 * The intake benchmarks' engagement and segment members: mixed zones (a third without a zone, inferred
 * from the number), two phones each, custom-priority call order, quiet hours and frequency limits.
 */
const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', 'Australia/Adelaide'];
const allDay = [{ start: '00:00', end: '24:00' }];

export const benchEngagementFile = {
  queues: [
    {
      name: 'q',
      operatingHours: {
        timeZone: 'UTC',
        days: { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay },
      },
      representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
    },
  ],
  engagements: [
    {
      id: 'bench',
      name: 'Bench',
      workstream: 'ws',
      channel: 'voice',
      routing: { primaryQueue: 'q' },
      type: 'representative-led',
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
      callOrder: { kind: 'custom-priority', attribute: 'score', direction: 'desc' },
      phoneOrder: ['mobile', 'home'],
      quietHours: { mobile: [{ start: '12:00', end: '13:00' }], home: [] },
      frequencyLimits: { perDay: 1, perWeek: 3 },
      operatingHours: { allowOutsideQueueHours: true },
      timeZonePolicy: 'contact-else-inferred',
    },
  ],
};

/** Member `i` of the synthetic segment as one NDJSON line; `first` offsets the ids (page n of a segment). */
export function memberLine(i: number, options: { distinctPhones?: boolean } = {}): string {
  // By default numbers repeat (40,000 distinct per 100k members, as households and switchboards do);
  // `distinctPhones` gives every member numbers of their own (400,000 members).
  const distinct = options.distinctPhones === true;
  return JSON.stringify({
    contactId: `member-${i}`,
    firstName: `First${i % 1000}`,
    lastName: 'Bench',
    email: `m${i}@example.com`,
    phones: {
      mobile: distinct ? distinctNumber(2 * i) : `+1${[212, 312, 303, 415, 646, 773][i % 6]}555${String(i % 10_000).padStart(4, '0')}`,
      home: distinct ? distinctNumber(2 * i + 1) : `+1202555${String((i * 7) % 10_000).padStart(4, '0')}`,
    },
    ...(i % 3 === 0 ? {} : { timeZone: ZONES[i % ZONES.length] }),
    locale: 'en-US',
    attributes: { score: (i * 7919) % 1000, policy: `P-${i}` },
  });
}

const AREAS = [212, 312, 303, 415, 646, 773, 617, 713, 206, 404, 202, 305, 512, 702, 720, 919];
const EXCHANGES = [555, 234, 345, 456, 567];

/** The `n`th of 800,000 distinct valid North American numbers. */
function distinctNumber(n: number): string {
  const line = String(n % 10_000).padStart(4, '0');
  const exchange = EXCHANGES[Math.floor(n / 10_000) % EXCHANGES.length];
  const area = AREAS[Math.floor(n / 50_000) % AREAS.length];
  return `+1${area}${exchange}${line}`;
}

/** Members `[first, first + count)` as an NDJSON page. */
export function ndjsonPage(first: number, count: number, options: { distinctPhones?: boolean } = {}): string {
  const lines: string[] = [];
  for (let i = first; i < first + count; i++) lines.push(memberLine(i, options));
  return lines.join('\n');
}
