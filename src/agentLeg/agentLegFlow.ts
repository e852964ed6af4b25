import { DateTime } from 'luxon';
import { z } from 'zod';
import type { CallEvent } from '../contacts/callEvent.js';
import { CALL_RESULTS, type CallResult } from '../contacts/callResult.js';
import type { AttributeValue } from '../contacts/plannedContact.js';
import type { EngagementConfig, Priority } from '../engagement/engagementSchema.js';
import type { FieldIssue } from '../errors.js';
import type { ConversationVariables, EngineFailure, ExternalEngineConfig, RelayRequest, RelayResult } from './agentEngine.js';
import { agentLegPrompts as say } from './agentLegPrompts.js';
import { callContextSchema, type CallContext, type DeliveryIds } from './callContext.js';
import { classifyIntent, type Intent } from './classifyIntent.js';
import { copilotStudioFieldsSchema, type CopilotStudioFields } from './copilotStudioFields.js';
import { parseCallbackTime, type CallbackTimeParse } from './parseCallbackTime.js';
import { formatSpokenDateTime, renderPurpose } from './renderPurpose.js';

/**
 * The agent leg as a pure state machine: `(state, input, now, engagement) -> { state, replies, effects }`.
 * It decides what to say and what to record; the bot shell (agentLegBot.ts) turns replies into
 * activities and performs the effects (recording outcomes, asking queues for capacity).
 *
 * Timeline of a call:
 *   context ──► greeting + "Am I speaking with Ana?"            (right-party)
 *     yes ──► purpose + "speak with a representative now?"      (disposition)
 *       yes ──► check capacity ──► "connecting you" + handoff.initiate      LiveAnswer/interested, escalated
 *       callback [time] ──► confirm                                         LiveAnswer/callback + callbackAt
 *       no ──► goodbye                                                      LiveAnswer/not-interested
 *     no / wrong person ──► goodbye                                         LiveAnswer/not-right-party
 *   at any live step: stop ──► DNC goodbye                                  LiveAnswer/do-not-contact
 *                     answering machine ──► voicemail or end                AnsweringMachine[/voicemail]
 *                     hang-up ──► nothing said                              CallEnded
 *                     timeout or failure ──► apology                        BotFailed
 * Every outcome is recorded once; once ended, every further input is ignored.
 *
 * With an external engine (`agentLeg.engine` = copilot-studio) the conversation itself is the agent's:
 *   context ──► relay start (call context as conversation variables) ──► the agent's greeting
 *   utterance ──► relay ──► what the agent said; its transfer ──► check capacity ──► handoff.initiate
 *                            its end of conversation ──► outcome from its variables
 *   relay failure ──► BotFailed; a representative free ──► hand-off, else apology   (failure policy)
 * Hang-up, answering machine, the call timeout and hub hand-off requests are handled as above.
 */

export const MAX_REPROMPTS = 2;
export const MAX_TRANSCRIPT_ENTRIES = 60;
/** Characters of transcript text kept in the state (newest first), so the state always fits in storage. */
export const MAX_TRANSCRIPT_CHARS = 100_000;
/** Longest duration a call event may carry (`callEventSchema`): a conversation resumed after a day reports this. */
const MAX_EVENT_SECONDS = 86_400;
export const MIN_CALLBACK_LEAD_MINUTES = 5;
export const MAX_CALLBACK_DAYS = 14;

export const AGENT_LEG_STEPS = ['awaiting-context', 'right-party', 'disposition', 'callback-time', 'relaying', 'handing-off', 'ended'] as const;
export type AgentLegStep = (typeof AGENT_LEG_STEPS)[number];

export type Disposition = NonNullable<CallEvent['disposition']>;
const DISPOSITIONS = ['interested', 'callback', 'not-interested', 'do-not-contact', 'not-right-party', 'voicemail'] as const satisfies readonly Disposition[];

/** Topic names, as Copilot Studio's va_Topics lists them for a representative. */
const TOPIC: Readonly<Record<Exclude<AgentLegStep, 'awaiting-context' | 'ended'>, string>> = {
  'right-party': 'Right-party check',
  disposition: 'Purpose',
  'callback-time': 'Callback',
  relaying: 'Copilot Studio',
  'handing-off': 'Hand-off',
};

const transcriptEntrySchema = z.object({
  from: z.enum(['agent', 'customer']),
  text: z.string(),
  at: z.string(),
});
export type TranscriptEntry = z.infer<typeof transcriptEntrySchema>;

/** Conversation state, stored between turns; validated when read back (storage is a boundary too). */
export const agentLegStateSchema = z.object({
  step: z.enum(AGENT_LEG_STEPS),
  context: callContextSchema.optional(),
  conversationId: z.string().optional(),
  agentName: z.string().optional(),
  agentId: z.string().optional(),
  startedAt: z.string().optional(),
  rightPartyConfirmed: z.boolean().default(false),
  reprompts: z.int().min(0).default(0),
  topics: z.array(z.string()).default([]),
  transcript: z.array(transcriptEntrySchema).default([]),
  copilotStudio: copilotStudioFieldsSchema.optional(),
  /** The external engine's conversation (Copilot Studio's conversation id), once it has answered. */
  relay: z.object({ conversationId: z.string().min(1) }).optional(),
  /** Set when the engine failed and the call is being handed over: why (a failure code). */
  engineFailure: z.string().optional(),
  ended: z.object({ result: z.enum(CALL_RESULTS), disposition: z.enum(DISPOSITIONS).optional(), at: z.string() }).optional(),
});
export type AgentLegState = z.output<typeof agentLegStateSchema>;

export const INITIAL_AGENT_LEG_STATE: AgentLegState = Object.freeze({
  step: 'awaiting-context',
  rightPartyConfirmed: false,
  reprompts: 0,
  topics: [],
  transcript: [],
});

export type FlowInput =
  /**
   * The call context arrived (see callContext.ts); `agentName`/`agentId` introduce the agent.
   * `greet: false` when the context rides on a hand-off request: the customer is mid-conversation
   * with another agent and must not be greeted again.
   */
  | {
      readonly kind: 'context';
      readonly context: CallContext;
      readonly conversationId: string;
      readonly agentName: string;
      readonly agentId?: string;
      readonly greet?: boolean;
    }
  | { readonly kind: 'context-invalid'; readonly issues: readonly FieldIssue[]; readonly ids?: DeliveryIds }
  | { readonly kind: 'utterance'; readonly text: string }
  | { readonly kind: 'machine-detected' }
  | { readonly kind: 'hangup' }
  /** Copilot Studio (or the hub) asks for a representative, with its own va_* context. */
  | { readonly kind: 'handoff-requested'; readonly fields: CopilotStudioFields }
  /** The answer to a `check-capacity` effect: queues asked, and whether each has a representative free. */
  | { readonly kind: 'capacity'; readonly available: Readonly<Record<string, boolean>> }
  /** The shell failed while handling this conversation (an exception); `reason` is for logs, never spoken. */
  | { readonly kind: 'failure'; readonly reason: string }
  /** The answer to a `relay` effect: what the external engine said and decided, or why it failed. */
  | { readonly kind: 'relayed'; readonly result: RelayResult };

export type InputHint = 'expectingInput' | 'acceptingInput' | 'ignoringInput';
export type AgentLegErrorCode =
  | 'MissingCallContext'
  | 'InvalidCallContext'
  | 'EngagementNotFound'
  | 'EngagementNotAiLed'
  | 'MissingInputAttribute'
  | 'AgentLegTimedOut'
  | 'AgentLegFailed'
  | 'AgentEngineFailed';
export type EndCode = 'completedSuccessfully' | 'agentTimedOut' | 'unknown';

/** What the representative receives on hand-off (routing, context, and the conversation so far). */
export interface HandoffRequest {
  readonly queue: string;
  readonly primaryQueue: string;
  readonly fallbackUsed: boolean;
  readonly skills: readonly string[];
  readonly priority: Priority;
  readonly engagementId: string;
  readonly engagementName: string;
  readonly deliveryId: string;
  readonly attempt: number;
  readonly disposition: 'interested';
  readonly firstName?: string;
  readonly locale: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Copilot Studio's fields, incoming ones first, ours filling the gaps; va_AgentMessage is the note. */
  readonly copilotStudio: CopilotStudioFields;
  readonly transcript: readonly TranscriptEntry[];
}

export type FlowReply =
  | { readonly kind: 'say'; readonly text: string; readonly inputHint: InputHint }
  | { readonly kind: 'handoff'; readonly handoff: HandoffRequest }
  | { readonly kind: 'error'; readonly code: AgentLegErrorCode; readonly message: string; readonly issues?: readonly FieldIssue[] }
  | { readonly kind: 'end'; readonly code: EndCode };

export type FlowEffect =
  | { readonly kind: 'record-outcome'; readonly event: CallEvent }
  /** Ask queues, in order, whether a representative is free; answer with a `capacity` input. */
  | { readonly kind: 'check-capacity'; readonly queues: readonly string[]; readonly skills: readonly string[] }
  /** Relay to the engagement's external engine; answer with a `relayed` input (none for `close`). */
  | { readonly kind: 'relay'; readonly engine: ExternalEngineConfig; readonly request: RelayRequest };

export interface FlowResult {
  readonly state: AgentLegState;
  readonly replies: readonly FlowReply[];
  readonly effects: readonly FlowEffect[];
}

/** One step of the agent leg. Pure: same inputs, same result; `now` is the only clock. */
export function stepAgentLeg(state: AgentLegState, input: FlowInput, now: Date, engagement: EngagementConfig | undefined): FlowResult {
  if (state.step === 'ended') return unchanged(state);
  if (input.kind === 'context') return start(state, input, now, engagement);
  if (input.kind === 'context-invalid') {
    if (state.context !== undefined) return unchanged(state);
    return failBeforeStart(state, now, input.ids, 'InvalidCallContext', 'the call context is invalid', input.issues);
  }

  const context = state.context;
  if (context === undefined) {
    if (input.kind === 'capacity' || input.kind === 'relayed') return unchanged(state);
    if (input.kind === 'hangup') return { state: { ...state, step: 'ended' }, replies: [], effects: [] };
    if (input.kind === 'failure') return failBeforeStart(state, now, undefined, 'AgentLegFailed', 'the agent leg failed before the call context arrived');
    return failBeforeStart(
      state,
      now,
      undefined,
      'MissingCallContext',
      'no call context arrived before the conversation started: send a startConversation event (or a conversationUpdate) whose value holds engagementId, deliveryId, attempt and timeZone',
    );
  }

  if (input.kind === 'failure') return fail(state, context, now, 'AgentLegFailed', say.failed());
  if (engagement === undefined || engagement.agentLeg === undefined) {
    return fail(state, context, now, 'EngagementNotFound', say.failed());
  }
  if (isTimedOut(state, now, engagement.agentLeg.timeoutSeconds)) {
    const apology = input.kind === 'hangup' ? undefined : say.timedOut();
    return closingRelay(fail(state, context, now, 'AgentLegTimedOut', apology), state, engagement);
  }

  switch (input.kind) {
    case 'hangup':
      return closingRelay(end(state, context, now, { result: 'CallEnded' }, []), state, engagement);
    case 'machine-detected':
      return closingRelay(leaveVoicemail(state, context, now, engagement), state, engagement);
    case 'handoff-requested':
      return requestHandoff({ ...state, copilotStudio: mergeCopilotFields(state.copilotStudio, input.fields) }, engagement);
    case 'capacity':
      if (state.step !== 'handing-off') return unchanged(state);
      return state.engineFailure === undefined
        ? handOff(state, context, now, engagement, input.available)
        : failOver(state, context, now, engagement, input.available);
    case 'relayed':
      return state.step === 'relaying' ? relayed(state, context, now, engagement, input.result) : unchanged(state);
    case 'utterance':
      if (state.step === 'relaying') return relayUtterance(heard(state, input.text, now), context, input.text, engagement);
      return answer(heard(state, input.text, now), context, input.text, now, engagement);
  }
}

function start(state: AgentLegState, input: Extract<FlowInput, { kind: 'context' }>, now: Date, engagement: EngagementConfig | undefined): FlowResult {
  // A second context (a redelivered startConversation) changes nothing once the call has begun.
  if (state.context !== undefined) return unchanged(state);
  const { context } = input;
  const started: AgentLegState = {
    ...state,
    context,
    conversationId: input.conversationId,
    agentName: input.agentName,
    ...(input.agentId === undefined ? {} : { agentId: input.agentId }),
    startedAt: now.toISOString(),
    ...(context.copilotStudio === undefined ? {} : { copilotStudio: mergeCopilotFields(state.copilotStudio, context.copilotStudio) }),
  };
  if (engagement === undefined) {
    return failWithError(started, context, now, 'EngagementNotFound', `engagement ${context.engagementId} is not in the catalogue`);
  }
  if (engagement.type !== 'ai-led' || engagement.agentLeg === undefined) {
    return failWithError(started, context, now, 'EngagementNotAiLed', `engagement ${context.engagementId} is not AI-led: it has no agent leg`);
  }
  const purpose = renderPurpose(engagement.agentLeg.purpose, context.attributes, context.timeZone, context.locale);
  if (!purpose.ok) {
    return failWithError(
      started,
      context,
      now,
      'MissingInputAttribute',
      `the purpose of engagement ${context.engagementId} names input attributes the delivery lacks: ${purpose.missing.join(', ')}`,
      purpose.missing.map((name) => ({ path: `attributes.${name}`, message: 'required by the engagement purpose' })),
    );
  }
  const engine = externalEngineOf(engagement);
  if (engine !== undefined && input.greet !== false) {
    const variables = toConversationVariables(context, purpose.text);
    return {
      state: enter(started, 'relaying'),
      replies: [],
      effects: [{ kind: 'relay', engine, request: { kind: 'start', variables, locale: context.locale } }],
    };
  }
  if (input.greet === false) return respond(enter(started, 'right-party'), now, []);
  return respond(enter(started, 'right-party'), now, [{ kind: 'say', text: say.greeting(input.agentName, context.firstName), inputHint: 'expectingInput' }]);
}

function answer(state: AgentLegState, context: CallContext, text: string, now: Date, engagement: EngagementConfig): FlowResult {
  const intent = classifyIntent(text, context.firstName === undefined ? {} : { firstName: context.firstName });
  if (intent === 'stop') return end(state, context, now, { result: 'LiveAnswer', disposition: 'do-not-contact' }, [goodbye(say.doNotContact())]);
  if (intent === 'wrong-person') {
    return end(state, context, now, { result: 'LiveAnswer', disposition: 'not-right-party' }, [goodbye(say.wrongPerson())]);
  }
  switch (state.step) {
    case 'right-party':
      return answerRightParty(state, context, text, intent, now, engagement);
    case 'disposition':
      return answerDisposition(state, context, text, intent, now, engagement);
    case 'callback-time':
      return answerCallbackTime(state, context, text, intent, now, engagement);
    default:
      return unchanged(state);
  }
}

function answerRightParty(state: AgentLegState, context: CallContext, text: string, intent: Intent, now: Date, engagement: EngagementConfig): FlowResult {
  switch (intent) {
    case 'yes': {
      const purpose = renderPurpose(requireAgentLeg(engagement).purpose, context.attributes, context.timeZone, context.locale);
      const spoken = purpose.ok ? purpose.text : requireAgentLeg(engagement).purpose;
      return respond(enter({ ...state, rightPartyConfirmed: true }, 'disposition'), now, [
        { kind: 'say', text: say.purpose(spoken), inputHint: 'expectingInput' },
      ]);
    }
    case 'no':
      return end(state, context, now, { result: 'LiveAnswer', disposition: 'not-right-party' }, [goodbye(say.wrongPerson())]);
    case 'callback':
      return callback(state, context, parseCallbackTime(text, now, context.timeZone), now, engagement);
    default:
      return reprompt(state, context, now, say.rightPartyReprompt(context.firstName));
  }
}

function answerDisposition(state: AgentLegState, context: CallContext, text: string, intent: Intent, now: Date, engagement: EngagementConfig): FlowResult {
  switch (intent) {
    case 'yes':
      return requestHandoff(state, engagement);
    case 'no':
      return end(state, context, now, { result: 'LiveAnswer', disposition: 'not-interested' }, [goodbye(say.notInterested())]);
    case 'callback':
      return callback(state, context, parseCallbackTime(text, now, context.timeZone), now, engagement);
    default:
      return reprompt(state, context, now, say.dispositionReprompt());
  }
}

function answerCallbackTime(state: AgentLegState, context: CallContext, text: string, intent: Intent, now: Date, engagement: EngagementConfig): FlowResult {
  const parsed = parseCallbackTime(text, now, context.timeZone);
  if (parsed.kind === 'none' && intent === 'no') {
    return end(state, context, now, { result: 'LiveAnswer', disposition: 'not-interested' }, [goodbye(say.notInterested())]);
  }
  return callback(state, context, parsed, now, engagement);
}

/** A callback was asked for: schedule it when the time is usable, else ask (a bounded number of times). */
function callback(state: AgentLegState, context: CallContext, parsed: CallbackTimeParse, now: Date, engagement: EngagementConfig): FlowResult {
  const firstAsk = state.step !== 'callback-time';
  const asking = firstAsk ? enter(state, 'callback-time') : state;
  if (parsed.kind !== 'at') {
    return askCallbackTime(asking, context, now, firstAsk ? say.askCallbackTime() : say.askCallbackTimeAgain(), firstAsk);
  }
  const problem = checkCallbackTime(parsed.at, now, engagement);
  if (problem !== undefined) return askCallbackTime(asking, context, now, problem, firstAsk);
  return end(asking, context, now, { result: 'LiveAnswer', disposition: 'callback', callbackAt: parsed.at.toUTC().toISO() ?? undefined }, [
    goodbye(say.callbackConfirmed(formatSpokenDateTime(parsed.at.setLocale('en-US')))),
  ]);
}

/**
 * Asks for the callback time. The customer did ask to be called back, so running out of attempts
 * records a callback without a time (the engagement's reattempt wait applies) rather than nothing.
 */
function askCallbackTime(state: AgentLegState, context: CallContext, now: Date, prompt: string, firstAsk: boolean): FlowResult {
  if (!firstAsk && state.reprompts >= MAX_REPROMPTS) {
    return end(state, context, now, { result: 'LiveAnswer', disposition: 'callback' }, [goodbye(say.callbackNoted())]);
  }
  return respond(firstAsk ? state : { ...state, reprompts: state.reprompts + 1 }, now, [{ kind: 'say', text: prompt, inputHint: 'expectingInput' }]);
}

/** Why a callback time cannot be used, as the sentence that asks for another one; undefined when it can. */
function checkCallbackTime(at: DateTime, now: Date, engagement: EngagementConfig): string | undefined {
  const earliest = DateTime.fromJSDate(now).plus({ minutes: MIN_CALLBACK_LEAD_MINUTES });
  if (at < earliest) return say.callbackTooSoon();
  if (at > DateTime.fromJSDate(now).plus({ days: MAX_CALLBACK_DAYS })) return say.callbackTooFar(MAX_CALLBACK_DAYS);
  const clock = at.toFormat('HH:mm');
  const { start: open, end: close } = engagement.legalHours;
  if (clock < open || clock >= close) return say.callbackOutsideHours(engagement.legalHours);
  return undefined;
}

function reprompt(state: AgentLegState, context: CallContext, now: Date, prompt: string): FlowResult {
  if (state.reprompts >= MAX_REPROMPTS) {
    return end(state, context, now, { result: 'LiveAnswer' }, [goodbye(say.noCapture())]);
  }
  return respond({ ...state, reprompts: state.reprompts + 1 }, now, [{ kind: 'say', text: prompt, inputHint: 'expectingInput' }]);
}

function requestHandoff(state: AgentLegState, engagement: EngagementConfig): FlowResult {
  const { primaryQueue, fallbackQueue, skills } = engagement.routing;
  const queues = fallbackQueue === undefined ? [primaryQueue] : [primaryQueue, fallbackQueue];
  return { state: enter(state, 'handing-off'), replies: [], effects: [{ kind: 'check-capacity', queues, skills }] };
}

/**
 * Routes to the primary queue when it has a representative free, else to the fallback queue when that
 * one has; when neither has, to the primary anyway: the customer waits in its queue, and the
 * engagement's wait-time and abandonment rules slow dialing down, which is their job.
 */
function handOff(
  state: AgentLegState,
  context: CallContext,
  now: Date,
  engagement: EngagementConfig,
  available: Readonly<Record<string, boolean>>,
  options: { readonly lead?: readonly FlowReply[]; readonly outcome?: Outcome } = {},
): FlowResult {
  const { primaryQueue, fallbackQueue, skills } = engagement.routing;
  const useFallback = available[primaryQueue] !== true && fallbackQueue !== undefined && available[fallbackQueue] === true;
  const queue = useFallback && fallbackQueue !== undefined ? fallbackQueue : primaryQueue;
  // An external agent says its own words on transfer; the built-in flow says them here.
  const connecting: readonly FlowReply[] =
    options.lead ?? (externalEngineOf(engagement) === undefined ? [{ kind: 'say', text: say.handingOff(), inputHint: 'ignoringInput' }] : []);
  const withConnecting = withTranscript(state, connecting, now);
  const handoff: HandoffRequest = {
    queue,
    primaryQueue,
    fallbackUsed: queue !== primaryQueue,
    skills,
    priority: engagement.priority,
    engagementId: engagement.id,
    engagementName: engagement.name,
    deliveryId: context.deliveryId,
    attempt: context.attempt,
    disposition: 'interested',
    ...(context.firstName === undefined ? {} : { firstName: context.firstName }),
    locale: context.locale,
    attributes: context.attributes,
    copilotStudio: ourCopilotFields(withConnecting, context, engagement, now),
    transcript: withConnecting.transcript,
  };
  const outcome: Outcome = options.outcome ?? { result: 'LiveAnswer', disposition: 'interested', escalated: true };
  const ended = close(withConnecting, outcome, now);
  return {
    state: ended,
    // No endOfConversation after a hand-off: the hub takes the conversation over.
    replies: [...connecting, { kind: 'handoff', handoff }],
    effects: [recordOutcome(state, context, now, outcome)],
  };
}

/** The customer's turn goes to the engagement's external engine; its answer comes back as `relayed`. */
function relayUtterance(state: AgentLegState, context: CallContext, text: string, engagement: EngagementConfig): FlowResult {
  const engine = externalEngineOf(engagement);
  const conversationId = state.relay?.conversationId;
  if (engine === undefined || conversationId === undefined) return unchanged(state);
  return { state, replies: [], effects: [{ kind: 'relay', engine, request: { kind: 'utterance', conversationId, text, locale: context.locale } }] };
}

/** What the external agent said and decided: speak it, then hand off, end, or wait for the customer. */
function relayed(state: AgentLegState, context: CallContext, now: Date, engagement: EngagementConfig, result: RelayResult): FlowResult {
  if (!result.ok) return engineFailed(state, engagement, result.failure);
  const { turn } = result;
  const said: FlowReply[] = turn.says.map((utterance, index) => ({
    kind: 'say',
    text: utterance.text,
    inputHint: index === turn.says.length - 1 && turn.handoff === undefined && turn.end === undefined ? 'expectingInput' : 'ignoringInput',
  }));
  const current: AgentLegState = { ...state, relay: { conversationId: turn.conversationId } };
  if (turn.handoff !== undefined) {
    const handing = requestHandoff(
      { ...withTranscript(current, said, now), copilotStudio: mergeCopilotFields(current.copilotStudio, turn.handoff) },
      engagement,
    );
    return { ...handing, replies: [...said, ...handing.replies] };
  }
  if (turn.end !== undefined) {
    const { disposition, callbackAt } = turn.end;
    return end(current, context, now, { result: 'LiveAnswer', ...(disposition === undefined ? {} : { disposition }), callbackAt }, said);
  }
  return respond(current, now, said);
}

/**
 * The engine failed: the call counts as BotFailed (the failure policy sees it), and the customer, who
 * is on the line, is handed to a representative when one is free (asked first) rather than dropped.
 */
function engineFailed(state: AgentLegState, engagement: EngagementConfig, failure: EngineFailure): FlowResult {
  const handing = requestHandoff({ ...state, engineFailure: failure.code }, engagement);
  return handing;
}

function failOver(
  state: AgentLegState,
  context: CallContext,
  now: Date,
  engagement: EngagementConfig,
  available: Readonly<Record<string, boolean>>,
): FlowResult {
  const { primaryQueue, fallbackQueue } = engagement.routing;
  const free = available[primaryQueue] === true || (fallbackQueue !== undefined && available[fallbackQueue] === true);
  const closing = closingRelay(
    free
      ? handOff(state, context, now, engagement, available, {
          lead: [{ kind: 'say', text: say.failingOver(), inputHint: 'ignoringInput' }],
          outcome: { result: 'BotFailed', escalated: true },
        })
      : fail(state, context, now, 'AgentEngineFailed', say.failed()),
    state,
    engagement,
  );
  return closing;
}

/** Our side ended the call while the external agent's conversation is open: tell it (nothing waits for its answer). */
function closingRelay(result: FlowResult, before: AgentLegState, engagement: EngagementConfig): FlowResult {
  const engine = externalEngineOf(engagement);
  const conversationId = before.relay?.conversationId;
  if (engine === undefined || conversationId === undefined || result.state.step !== 'ended') return result;
  return { ...result, effects: [...result.effects, { kind: 'relay', engine, request: { kind: 'close', conversationId } }] };
}

function externalEngineOf(engagement: EngagementConfig | undefined): ExternalEngineConfig | undefined {
  const engine = engagement?.agentLeg?.engine;
  return engine === undefined || engine.kind === 'builtin' ? undefined : engine;
}

/**
 * The call context as the agent's conversation variables: the delivery's input attributes by their own
 * names, then the reserved names (which win): engagementId, deliveryId, attempt, firstName, purpose,
 * timeZone, locale.
 */
export function toConversationVariables(context: CallContext, purpose: string): ConversationVariables {
  return {
    ...context.attributes,
    engagementId: context.engagementId,
    deliveryId: context.deliveryId,
    attempt: context.attempt,
    ...(context.firstName === undefined ? {} : { firstName: context.firstName }),
    purpose,
    timeZone: context.timeZone,
    locale: context.locale,
  };
}

function leaveVoicemail(state: AgentLegState, context: CallContext, now: Date, engagement: EngagementConfig): FlowResult {
  const voicemail = requireAgentLeg(engagement).voicemail;
  if (voicemail.action === 'leave-message') {
    return end(state, context, now, { result: 'AnsweringMachine', disposition: 'voicemail' }, [
      { kind: 'say', text: voicemail.message, inputHint: 'ignoringInput' },
    ]);
  }
  return end(state, context, now, { result: 'AnsweringMachine' }, []);
}

interface Outcome {
  readonly result: CallResult;
  readonly disposition?: Disposition;
  readonly callbackAt?: string | undefined;
  readonly escalated?: boolean;
}

/** Ends the call: say the last words, record the outcome, and close the conversation. */
function end(state: AgentLegState, context: CallContext, now: Date, outcome: Outcome, lastWords: readonly FlowReply[]): FlowResult {
  const spoken = withTranscript(state, lastWords, now);
  return {
    state: close(spoken, outcome, now),
    replies: [...lastWords, { kind: 'end', code: 'completedSuccessfully' }],
    effects: [recordOutcome(state, context, now, outcome)],
  };
}

function fail(state: AgentLegState, context: CallContext, now: Date, code: AgentLegErrorCode, apology: string | undefined): FlowResult {
  const words: FlowReply[] = apology === undefined ? [] : [{ kind: 'say', text: apology, inputHint: 'ignoringInput' }];
  const spoken = withTranscript(state, words, now);
  return {
    state: close(spoken, { result: 'BotFailed' }, now),
    replies: [...words, { kind: 'end', code: code === 'AgentLegTimedOut' ? 'agentTimedOut' : 'unknown' }],
    effects: [recordOutcome(state, context, now, { result: 'BotFailed' })],
  };
}

/** A failure the caller can act on (bad context, unknown engagement): an error event names it, then the call ends. */
function failWithError(
  state: AgentLegState,
  context: CallContext,
  now: Date,
  code: AgentLegErrorCode,
  message: string,
  issues?: readonly FieldIssue[],
): FlowResult {
  const failed = fail(state, context, now, code, say.failed());
  const error: FlowReply = { kind: 'error', code, message, ...(issues === undefined ? {} : { issues }) };
  return { ...failed, replies: [error, ...failed.replies] };
}

/** No usable context: nobody knows who is on the line, so nothing is said to them; the caller gets the error. */
function failBeforeStart(
  state: AgentLegState,
  now: Date,
  ids: DeliveryIds | undefined,
  code: AgentLegErrorCode,
  message: string,
  issues?: readonly FieldIssue[],
): FlowResult {
  const error: FlowReply = { kind: 'error', code, message, ...(issues === undefined ? {} : { issues }) };
  const effects: FlowEffect[] = ids === undefined ? [] : [{ kind: 'record-outcome', event: { ...ids, result: 'BotFailed', at: now.toISOString() } }];
  return {
    state: { ...state, step: 'ended', ended: { result: 'BotFailed', at: now.toISOString() } },
    replies: [error, { kind: 'end', code: 'unknown' }],
    effects,
  };
}

function recordOutcome(state: AgentLegState, context: CallContext, now: Date, outcome: Outcome): FlowEffect {
  const event: CallEvent = {
    engagementId: context.engagementId,
    deliveryId: context.deliveryId,
    attempt: context.attempt,
    result: outcome.result,
    at: now.toISOString(),
    ...(state.startedAt === undefined ? {} : { handleSeconds: Math.min(MAX_EVENT_SECONDS, secondsBetween(state.startedAt, now)) }),
    ...(outcome.disposition === undefined ? {} : { disposition: outcome.disposition }),
    ...(outcome.callbackAt === undefined ? {} : { callbackAt: outcome.callbackAt }),
    ...(outcome.escalated === undefined ? {} : { escalated: outcome.escalated }),
  };
  return { kind: 'record-outcome', event };
}

function close(state: AgentLegState, outcome: Outcome, now: Date): AgentLegState {
  return {
    ...state,
    step: 'ended',
    ended: {
      result: outcome.result,
      ...(outcome.disposition === undefined ? {} : { disposition: outcome.disposition }),
      at: now.toISOString(),
    },
  };
}

function respond(state: AgentLegState, now: Date, replies: readonly FlowReply[]): FlowResult {
  return { state: withTranscript(state, replies, now), replies, effects: [] };
}

function unchanged(state: AgentLegState): FlowResult {
  return { state, replies: [], effects: [] };
}

function goodbye(text: string): FlowReply {
  return { kind: 'say', text, inputHint: 'ignoringInput' };
}

function enter(state: AgentLegState, step: Exclude<AgentLegStep, 'awaiting-context' | 'ended'>): AgentLegState {
  return { ...state, step, reprompts: 0, topics: [...state.topics, TOPIC[step]] };
}

function heard(state: AgentLegState, text: string, now: Date): AgentLegState {
  return appendTranscript(state, [{ from: 'customer', text, at: now.toISOString() }]);
}

function withTranscript(state: AgentLegState, replies: readonly FlowReply[], now: Date): AgentLegState {
  const said = replies.flatMap((r) => (r.kind === 'say' ? [{ from: 'agent' as const, text: r.text, at: now.toISOString() }] : []));
  return said.length === 0 ? state : appendTranscript(state, said);
}

function appendTranscript(state: AgentLegState, entries: readonly TranscriptEntry[]): AgentLegState {
  const all = [...state.transcript, ...entries].slice(-MAX_TRANSCRIPT_ENTRIES);
  let chars = 0;
  let from = all.length;
  while (from > 0 && chars + (all[from - 1]?.text.length ?? 0) <= MAX_TRANSCRIPT_CHARS) chars += all[--from]?.text.length ?? 0;
  return { ...state, transcript: all.slice(from) };
}

function isTimedOut(state: AgentLegState, now: Date, timeoutSeconds: number): boolean {
  return state.startedAt !== undefined && secondsBetween(state.startedAt, now) > timeoutSeconds;
}

function secondsBetween(fromIso: string, now: Date): number {
  return Math.max(0, Math.round((now.getTime() - Date.parse(fromIso)) / 1000));
}

function requireAgentLeg(engagement: EngagementConfig): NonNullable<EngagementConfig['agentLeg']> {
  if (engagement.agentLeg === undefined) throw new Error(`engagement ${engagement.id} has no agentLeg`);
  return engagement.agentLeg;
}

/** Incoming Copilot Studio values win (they describe the conversation it had); lists are joined. */
export function mergeCopilotFields(ours: CopilotStudioFields | undefined, incoming: CopilotStudioFields): CopilotStudioFields {
  const base = ours ?? {};
  const topics = unique([...(incoming.va_Topics ?? []), ...(base.va_Topics ?? [])]);
  const phrases = [...(incoming.va_Phrases ?? []), ...(base.va_Phrases ?? [])];
  return {
    ...base,
    ...incoming,
    ...(topics.length === 0 ? {} : { va_Topics: topics }),
    ...(phrases.length === 0 ? {} : { va_Phrases: phrases }),
  };
}

/** The va_* fields of our own hand-off: what Copilot Studio would send, with the incoming ones kept. */
function ourCopilotFields(state: AgentLegState, context: CallContext, engagement: EngagementConfig, now: Date): CopilotStudioFields {
  const incoming = state.copilotStudio ?? {};
  const phrases = state.transcript.filter((e) => e.from === 'customer').map((e) => e.text);
  const note = handoffNote(state, context, engagement, now);
  const ours: CopilotStudioFields = {
    va_Scope: 'bot',
    va_Topics: state.topics,
    ...(state.topics.at(-1) === undefined ? {} : { va_LastTopic: state.topics.at(-1) }),
    ...(phrases.at(-1) === undefined ? {} : { va_LastPhrase: phrases.at(-1) }),
    va_Phrases: phrases,
    ...(state.conversationId === undefined ? {} : { va_ConversationId: state.conversationId }),
    ...(state.agentId === undefined ? {} : { va_BotId: state.agentId }),
    ...(state.agentName === undefined ? {} : { va_BotName: state.agentName }),
    va_Language: context.locale,
  };
  const merged = mergeCopilotFields(ours, incoming);
  const message = [incoming.va_AgentMessage, note].filter((m): m is string => m !== undefined && m !== '').join(' ');
  return { ...merged, va_AgentMessage: message };
}

/** A short private note for the representative, in the spirit of Copilot Studio's va_AgentMessage. */
function handoffNote(state: AgentLegState, context: CallContext, engagement: EngagementConfig, now: Date): string {
  const engine = externalEngineOf(engagement);
  if (engine !== undefined) {
    const local = DateTime.fromJSDate(now, { zone: context.timeZone }).toFormat('HH:mm ZZZZ');
    const why = state.engineFailure === undefined ? 'transferred by' : `handed over after a failure (${state.engineFailure}) of`;
    return `Proactive call "${engagement.name}", attempt ${context.attempt}, ${why} Copilot Studio agent ${engine.schemaName}. Customer local time ${local}.`;
  }
  const who = context.firstName ?? 'The customer';
  const identity = state.rightPartyConfirmed ? `${who} confirmed their identity and` : `${who} (identity not confirmed by the agent)`;
  const purpose = renderPurpose(requireAgentLeg(engagement).purpose, context.attributes, context.timeZone, context.locale);
  const about = purpose.ok ? purpose.text : requireAgentLeg(engagement).purpose;
  const local = DateTime.fromJSDate(now, { zone: context.timeZone }).toFormat('HH:mm ZZZZ');
  return `Proactive call "${engagement.name}", attempt ${context.attempt}: ${identity} asked for a representative about ${about}. Customer local time ${local}.`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
