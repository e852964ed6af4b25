import { DateTime } from 'luxon';
import type { LocalTimeRange } from '../engagement/engagementSchema.js';

/**
 * What the agent says, in one place (English). Sentences are short and end in a question when the
 * agent waits for an answer: they are spoken by text-to-speech on a phone line. Nothing about the
 * call's purpose is said before the right-party check passes: whoever picked up may not be the contact.
 */
export const agentLegPrompts = {
  greeting: (agentName: string, firstName: string | undefined): string => `Hello, this is ${agentName}. ${rightPartyQuestion(firstName)}`,
  rightPartyReprompt: (firstName: string | undefined): string => `Sorry, I didn't catch that. ${rightPartyQuestion(firstName)} Please say yes or no.`,
  purpose: (purpose: string): string =>
    `Thank you. I'm calling because ${trimSentence(purpose)}. Would you like to speak with a representative now? You can also ask us to call you back later.`,
  dispositionReprompt: (): string =>
    "Sorry, I didn't catch that. Would you like to speak with a representative now? Please say yes or no, or ask us to call you back later.",
  askCallbackTime: (): string => 'Of course. When should we call you back? For example, tomorrow at 3 PM.',
  askCallbackTimeAgain: (): string => "Sorry, I didn't catch a time. Please tell me a day and a time, for example tomorrow at 3 PM.",
  callbackTooSoon: (): string => 'That time is too soon or has already passed. When should we call you back?',
  callbackTooFar: (days: number): string => `We can schedule a call back within the next ${days} days. Which day and time would suit you?`,
  callbackOutsideHours: (hours: LocalTimeRange): string =>
    `We can call you between ${spokenClock(hours.start)} and ${spokenClock(hours.end)} your time. What time would suit you?`,
  callbackConfirmed: (when: string): string => `Thank you. We will call you back on ${when}. Goodbye.`,
  callbackNoted: (): string => 'Thank you. We will call you back another time. Goodbye.',
  handingOff: (): string => "Thank you. I'm connecting you with a representative now. Please hold.",
  notInterested: (): string => 'Thank you for your time. Goodbye.',
  doNotContact: (): string => 'Understood. We will not call this number again. Goodbye.',
  wrongPerson: (): string => 'Sorry for the trouble. Goodbye.',
  noCapture: (): string => "Sorry, I couldn't understand. We will try again another time. Goodbye.",
  timedOut: (): string => 'Sorry, we have to end this call now. We will call you again later. Goodbye.',
  failingOver: (): string => "Sorry, I'm having trouble on my side. Let me connect you with a representative. Please hold.",
  failed: (): string => 'Sorry, something went wrong on our side. We will call you again later. Goodbye.',
} as const;

function rightPartyQuestion(firstName: string | undefined): string {
  return firstName === undefined ? 'Am I speaking with the account holder?' : `Am I speaking with ${firstName}?`;
}

function trimSentence(text: string): string {
  return text.trim().replace(/[.!\s]+$/, '');
}

/** "08:00" -> "8:00 AM"; "24:00" -> "midnight". */
export function spokenClock(time: string): string {
  if (time === '24:00') return 'midnight';
  const parsed = DateTime.fromFormat(time, 'HH:mm', { zone: 'UTC', locale: 'en-US' });
  return parsed.isValid ? parsed.toFormat('h:mm a') : time;
}
