import { z } from 'zod';
import type { AgentUtterance, Disposition, RelayResult } from './agentEngine.js';
import type { CopilotStudioFields } from './copilotStudioFields.js';
import { readHandoffFields } from './toFlowInputs.js';
import { HANDOFF_EVENT_NAME } from './toReplyActivities.js';

const DISPOSITIONS = ['interested', 'callback', 'not-interested', 'do-not-contact', 'not-right-party', 'voicemail'] as const satisfies readonly Disposition[];

const activitySchema = z.looseObject({
  type: z.string().min(1),
  name: z.string().optional(),
  text: z.string().optional(),
  speak: z.string().optional(),
  value: z.unknown().optional(),
  entities: z.array(z.unknown()).optional(),
  channelData: z.unknown().optional(),
  conversation: z.looseObject({ id: z.string().optional() }).optional(),
});

const streamInfoSchema = z.looseObject({ type: z.literal('streaminfo'), streamId: z.string().min(1), streamType: z.string().optional() });

/**
 * What the agent's topic puts in the `value` of its End of conversation: the outcome of the call, and
 * a transfer reason when the conversation ends in a transfer (then its va_* fields ride along too).
 */
const endValueSchema = z.looseObject({
  disposition: z.enum(DISPOSITIONS, { error: `expected one of ${DISPOSITIONS.join(', ')}` }).optional(),
  callbackAt: z.iso.datetime({ offset: true, error: 'expected an ISO-8601 date-time with an offset' }).optional(),
  transferReason: z.string().trim().min(1).max(500).optional(),
});

/**
 * Reads one turn of a Copilot Studio agent: the activities its answer stream carried, in order.
 * - `message`: said (its `speak` kept); a message with neither text nor speak (a card) is not speakable and is skipped.
 * - `typing` with a `streaminfo` entity: a streamed answer; the client accumulates its text, and the
 *   final `message` of the stream replaces it (a stream without a final message is said as accumulated).
 * - `event` `handoff.initiate`: the agent transfers; its `value` carries the va_* fields.
 * - `endOfConversation`: the agent ended; `value.disposition` / `value.callbackAt` are the outcome, and a
 *   `value.transferReason` makes it a transfer.
 * Anything else (traces, other events) means nothing on a call. A turn with nothing to say, no transfer
 * and no end leaves the customer in silence, and counts as malformed.
 */
export function readCopilotStudioTurn(activities: readonly unknown[], conversationId: string): RelayResult {
  const says: AgentUtterance[] = [];
  const streams = new Map<string, { text: string; at: number }>();
  const finished = new Set<string>();
  let handoff: CopilotStudioFields | undefined;
  let end: { disposition?: Disposition; callbackAt?: string } | undefined;

  for (const [index, raw] of activities.entries()) {
    const parsed = activitySchema.safeParse(raw);
    if (!parsed.success) return malformed(`activity ${index} is not an activity: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const activity = parsed.data;
    const stream = streamOf(activity);
    switch (activity.type) {
      case 'typing':
        if (stream !== undefined && activity.text !== undefined && activity.text !== '') streams.set(stream, { text: activity.text, at: says.length });
        break;
      case 'message': {
        if (stream !== undefined) finished.add(stream);
        const text = activity.text?.trim() ?? '';
        if (text !== '' || (activity.speak ?? '') !== '') says.push({ text, ...(activity.speak === undefined ? {} : { speak: activity.speak }) });
        break;
      }
      case 'event':
        if (activity.name === HANDOFF_EVENT_NAME) handoff = { ...(handoff ?? {}), ...readHandoffFields(activity.value) };
        break;
      case 'endOfConversation': {
        const value = activity.value ?? {};
        const read = endValueSchema.safeParse(value);
        if (!read.success) {
          const issue = read.error.issues[0];
          return malformed(
            `endOfConversation value${issue === undefined || issue.path.length === 0 ? '' : `.${issue.path.join('.')}`}: ${issue?.message ?? 'invalid'}`,
          );
        }
        if (read.data.transferReason !== undefined) handoff = { ...(handoff ?? {}), ...readHandoffFields(value) };
        else
          end = {
            ...(read.data.disposition === undefined ? {} : { disposition: read.data.disposition }),
            ...(read.data.callbackAt === undefined ? {} : { callbackAt: new Date(read.data.callbackAt).toISOString() }),
          };
        break;
      }
      default:
        break;
    }
  }
  // Streams that never got their final message are said as far as they went, where they started.
  const unfinished = [...streams.entries()].filter(([id]) => !finished.has(id));
  for (const [, stream] of unfinished.reverse()) says.splice(stream.at, 0, { text: stream.text });

  if (handoff !== undefined) return { ok: true, turn: { conversationId, says, handoff } };
  if (end !== undefined) return { ok: true, turn: { conversationId, says, end } };
  if (says.length === 0) return malformed('the agent answered with nothing to say, no transfer and no end of conversation');
  return { ok: true, turn: { conversationId, says } };
}

function streamOf(activity: z.infer<typeof activitySchema>): string | undefined {
  for (const entity of activity.entities ?? []) {
    const info = streamInfoSchema.safeParse(entity);
    if (info.success) return info.data.streamId;
  }
  const data = activity.channelData;
  if (typeof data === 'object' && data !== null && typeof (data as Record<string, unknown>)['streamId'] === 'string') {
    return (data as Record<string, string>)['streamId'];
  }
  return undefined;
}

function malformed(message: string): RelayResult {
  return { ok: false, failure: { code: 'EngineMalformedActivity', message } };
}
