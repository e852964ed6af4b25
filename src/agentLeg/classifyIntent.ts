/**
 * What a customer's answer means to the agent leg. A small, explicit English classifier: every phrase
 * it knows is listed here, so a surprising classification is found by reading this file, and an answer
 * it does not know is `unknown` (the flow asks again) rather than a guess.
 */
export type Intent = 'yes' | 'no' | 'callback' | 'stop' | 'wrong-person' | 'unknown';

export interface ClassifyOptions {
  /** The first name the call is for: "this is not Ana" is a wrong person, "I'm not interested" is not. */
  readonly firstName?: string;
}

// Order matters: a request not to be called again outranks everything (it is a legal obligation), a
// wrong person outranks a callback ("he's not here, call later" is not the customer asking), and a
// callback outranks yes/no ("yes, but call me tomorrow").
const STOP = [
  /\bstop calling\b/,
  /\b(?:do not|don't|dont|never) (?:call|contact|phone|ring)(?: me| us| this number| here)? ?(?:again|anymore|any more|ever)\b/,
  /\b(?:do not|don't|dont) (?:call|contact|phone|ring)(?: me| us| this number| here)?$/,
  /\bdo not contact\b/,
  /\bdo not call list\b/,
  /\bremove (?:me|us|my number|this number)\b/,
  /\btake (?:me|us|my number|this number) off\b/,
  /\bunsubscribe\b/,
  /\bopt(?: |-)?out\b/,
  /\bleave me alone\b/,
];

const WRONG_PERSON = [
  /\bwrong (?:number|person)\b/,
  /\byou have the wrong\b/,
  /\b(?:no one|nobody|no-one) (?:by|with|called|named) that name\b/,
  /\b(?:he|she|they) (?:doesn't|does not|don't|do not|no longer) live[s]? here\b/,
  /\b(?:he|she|they)(?:'s|'re| is| are) not (?:here|home|available|in)\b/,
  /\b(?:he|she|they) (?:isn't|aren't) (?:here|home|available|in)\b/,
  /\b(?:this is not|this isn't|i'm not|i am not|it's not|it is not) (?:him|her|them|that person|the person|the account holder)\b/,
  /\bnever heard of\b/,
  /\b(?:this is|i'm|i am) (?:her|his|their) (?:husband|wife|partner|son|daughter|mother|father|mom|dad|brother|sister|friend|roommate|colleague)\b/,
];

const CALLBACK = [
  /\bcall (?:me |us )?(?:back|later|again later|another time|some other time)\b/,
  /\b(?:call|ring|phone) (?:me |us )?(?:tomorrow|tonight|this (?:afternoon|evening)|on \w+day|next \w+|at \d|in (?:\d+|an?|one|two|three|half))/,
  /\b(?:can|could|would) you (?:call|ring|phone)\b/,
  /\b(?:not a good|not the right|bad|busy) (?:time|moment)\b/,
  /\bi'?m busy\b/,
  /\bi am busy\b/,
  /\bnot (?:right )?now\b/,
  /\blater\b/,
  /\banother time\b/,
  /\bcallback\b/,
];

const STRONG_NO = [/\bnot (?:\w+ )?interested\b/, /\bno,? thank(?:s| you)\b/, /\bnot really\b/, /\bi'?m (?:good|fine),? thank/];
const NO = [
  /^(?:no|nope|nah|negative)\b/,
  /\bno\b/,
  /\bi don't want\b/,
  /\bi do not want\b/,
  /\b(?:not|isn't|is not|that's not) (?:right|correct)\b/,
  /\bincorrect\b/,
];
/** "not sure", "not right": a yes-word under a negation is not a yes. */
const NEGATED_YES = /\b(?:not|never|isn't|is not) (?:\w+ )?(?:sure|certain|okay|ok|right|correct|interested)\b/g;
const YES = [
  /\b(?:yes|yeah|yep|yup|yea|sure|okay|ok|correct|right|certainly|absolutely|definitely|please)\b/,
  /\bspeaking\b/,
  /\b(?:that's|that is|it's|it is|this is) (?:me|he|she|him|her)$/,
  /\bof course\b/,
  /\bgo ahead\b/,
  /\bsounds good\b/,
  /^(?:yes )?(?:i am|i'm)$/,
  /\bi'm interested\b/,
  /\binterested\b/,
  /\b(?:speak|talk) (?:to|with) (?:a |an |the |some )?(?:representative|agent|person|human|someone|somebody)\b/,
  /\b(?:representative|agent|operator)\b/,
];

/** Lower-cases, unifies apostrophes and drops punctuation that carries no meaning here (keeps ":" for times). */
export function normaliseUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[^a-z0-9:'\-\s]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function classifyIntent(text: string, options: ClassifyOptions = {}): Intent {
  const said = normaliseUtterance(text);
  if (said === '') return 'unknown';
  if (STOP.some((re) => re.test(said))) return 'stop';
  if (WRONG_PERSON.some((re) => re.test(said)) || deniesName(said, options.firstName)) return 'wrong-person';
  if (CALLBACK.some((re) => re.test(said))) return 'callback';
  if (STRONG_NO.some((re) => re.test(said))) return 'no';
  const no = NO.some((re) => re.test(said));
  const affirmative = said.replace(NEGATED_YES, ' ');
  const yes = YES.some((re) => re.test(affirmative));
  if (no && yes) return 'unknown';
  if (no) return 'no';
  if (yes) return 'yes';
  return 'unknown';
}

/** "this is not Ana", "I'm not Ana", "Ana isn't here": the call is not reaching the person it is for. */
function deniesName(said: string, firstName: string | undefined): boolean {
  if (firstName === undefined) return false;
  const name = normaliseUtterance(firstName);
  if (name === '') return false;
  const n = escapeRegExp(name);
  return new RegExp(
    `\\b(?:this is not|this isn't|i'm not|i am not|it's not|it is not) ${n}\\b|\\b${n} (?:is not|isn't|doesn't live|does not live|no longer lives|is out|is away)\\b`,
  ).test(said);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
