import { DateTime } from 'luxon';
import { normaliseUtterance } from './classifyIntent.js';

/**
 * A callback time read from what the customer said, in the contact's own time zone:
 * - `at`: a moment (luxon, in the contact's zone);
 * - `day-only`: a day was named without a time ("call me tomorrow"): the flow asks for the time;
 * - `none`: nothing that reads as a time.
 */
export type CallbackTimeParse = { readonly kind: 'at'; readonly at: DateTime } | { readonly kind: 'day-only' } | { readonly kind: 'none' };

/** Parts of the day, for "tomorrow morning": the time a person saying it most plausibly means. */
const PART_OF_DAY: Readonly<Record<string, { hour: number; minute: number }>> = {
  morning: { hour: 9, minute: 0 },
  noon: { hour: 12, minute: 0 },
  midday: { hour: 12, minute: 0 },
  lunchtime: { hour: 12, minute: 0 },
  afternoon: { hour: 14, minute: 0 },
  evening: { hour: 18, minute: 0 },
  tonight: { hour: 19, minute: 0 },
};

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  forty: 40,
  'forty-five': 45,
  ninety: 90,
};

const ISO_DATE_TIME = /\b(\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:z|[+-]\d{2}:?\d{2})?)\b/i;
const RELATIVE =
  /\bin (\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|forty-five|ninety|half an?) ?(minutes?|mins?|hours?|hrs?|days?)?\b/;
/** "3pm", "3:30 pm", "at 5", "at 17:30", "17:30": a bare number only counts after "at" or with a colon. */
const CLOCK = /\b(?:(?:at|around|about|by|after) )?(\d{1,2})(?::(\d{2}))? ?(am|pm|a m|p m|o'clock|oclock)?\b/g;

/**
 * Reads a callback time from an English utterance, relative to `now` in the contact's zone `zone`.
 * Days are computed in the contact's zone (at 22:30 in New York, "tomorrow" is the New York tomorrow even
 * though it is already tomorrow in UTC), and local times are placed with the zone's own offset on that
 * day, so a callback across a daylight-saving change keeps its wall-clock time.
 *
 * Rules for the ambiguous cases (a person on the phone, not a form):
 * - a time without a day is today, or tomorrow when it has already passed today;
 * - "at 1" to "at 7" without am/pm are afternoon hours (nobody asks to be called at 3 at night);
 * - a weekday means its next occurrence, a week ahead when it is today;
 * - an ISO date-time without an offset is the contact's local time.
 */
export function parseCallbackTime(text: string, now: Date, zone: string): CallbackTimeParse {
  const local = DateTime.fromJSDate(now, { zone });
  if (!local.isValid) return { kind: 'none' };

  const iso = ISO_DATE_TIME.exec(text);
  if (iso?.[1] !== undefined) {
    const at = DateTime.fromISO(iso[1].replace(' ', 'T'), { zone, setZone: false }).setZone(zone);
    return at.isValid ? { kind: 'at', at } : { kind: 'none' };
  }

  const said = normaliseUtterance(text);
  const relative = readRelative(said);
  if (relative !== undefined) return { kind: 'at', at: local.plus(relative).startOf('minute') };

  const day = readDay(said, local);
  const partOfDay = readPartOfDay(said);
  const clock = readClock(said, partOfDay);

  const time = clock ?? (partOfDay === undefined ? undefined : PART_OF_DAY[partOfDay]);
  if (time === undefined) return day === undefined ? { kind: 'none' } : { kind: 'day-only' };

  const base = day ?? local.startOf('day');
  let at = DateTime.fromObject({ year: base.year, month: base.month, day: base.day, hour: time.hour, minute: time.minute }, { zone });
  if (day === undefined && at <= local) at = at.plus({ days: 1 });
  return at.isValid ? { kind: 'at', at } : { kind: 'none' };
}

function readRelative(said: string): { minutes: number } | undefined {
  const match = RELATIVE.exec(said);
  if (match === null) return undefined;
  const [, amountWord = '', unitWord] = match;
  if (amountWord.startsWith('half')) return { minutes: 30 };
  // "in 5" alone is too vague to act on; it needs a unit.
  if (unitWord === undefined) return undefined;
  const amount = /^\d+$/.test(amountWord) ? Number(amountWord) : NUMBER_WORDS[amountWord];
  if (amount === undefined || amount <= 0) return undefined;
  if (unitWord.startsWith('m')) return { minutes: amount };
  if (unitWord.startsWith('h')) return { minutes: amount * 60 };
  return { minutes: amount * 60 * 24 };
}

function readDay(said: string, local: DateTime): DateTime | undefined {
  const today = local.startOf('day');
  if (/\bday after tomorrow\b/.test(said)) return today.plus({ days: 2 });
  if (/\btomorrow\b/.test(said)) return today.plus({ days: 1 });
  if (/\b(?:today|tonight|this (?:morning|afternoon|evening))\b/.test(said)) return today;

  const weekday = WEEKDAYS.findIndex((name) => new RegExp(`\\b${name}\\b`).test(said));
  if (weekday >= 0) {
    const target = weekday + 1; // luxon: Monday = 1
    let ahead = (target - today.weekday + 7) % 7;
    if (ahead === 0) ahead = 7;
    return today.plus({ days: ahead });
  }

  const monthDay =
    /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{1,2})(?:st|nd|rd|th)?\b/.exec(said) ??
    /\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/.exec(said);
  if (monthDay !== null) {
    const [, a = '', b = ''] = monthDay;
    const monthName = /^\d/.test(a) ? b : a;
    const dayOfMonth = Number(/^\d/.test(a) ? a : b);
    const month = MONTHS.indexOf(monthName as (typeof MONTHS)[number]) + 1;
    let date = DateTime.fromObject({ year: today.year, month, day: dayOfMonth }, { zone: local.zone });
    if (!date.isValid) return undefined;
    if (date < today) date = date.plus({ years: 1 });
    return date;
  }
  return undefined;
}

function readPartOfDay(said: string): string | undefined {
  if (/\btonight\b/.test(said)) return 'tonight';
  return Object.keys(PART_OF_DAY).find((part) => new RegExp(`\\b${part}\\b`).test(said));
}

function readClock(said: string, partOfDay: string | undefined): { hour: number; minute: number } | undefined {
  for (const match of said.matchAll(CLOCK)) {
    const [whole, hourText = '', minuteText, meridiem] = match;
    const anchored = /^(?:at|around|about|by|after) /.test(whole);
    if (!anchored && minuteText === undefined && meridiem === undefined) continue;
    // "in 2 hours" and dates ("march 10") were read elsewhere; skip numbers that belong to them.
    const after = said.slice((match.index ?? 0) + whole.length);
    if (/^ ?(?:minutes?|mins?|hours?|hrs?|days?|st|nd|rd|th)\b/.test(after)) continue;
    let hour = Number(hourText);
    const minute = minuteText === undefined ? 0 : Number(minuteText);
    if (hour > 23 || minute > 59) continue;
    const m = meridiem?.replace(' ', '');
    if (m === 'pm' && hour < 12) hour += 12;
    else if (m === 'am' && hour === 12) hour = 0;
    else if (m === undefined || m === "o'clock" || m === 'oclock') {
      const afternoon = partOfDay === 'afternoon' || partOfDay === 'evening' || partOfDay === 'tonight';
      if (hour >= 1 && hour <= 11 && afternoon) hour += 12;
      // "05:30" is a 24-hour clock; "5:30" and "at 5" on the phone mean the afternoon.
      else if (hour >= 1 && hour <= 7 && partOfDay !== 'morning' && !hourText.startsWith('0')) hour += 12;
    }
    return { hour, minute };
  }
  return undefined;
}
