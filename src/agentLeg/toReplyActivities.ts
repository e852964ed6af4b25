import { PRIORITY_RANK } from '../engagement/engagementSchema.js';
import type { FlowReply, HandoffRequest, TranscriptEntry } from './agentLegFlow.js';

export const HANDOFF_EVENT_NAME = 'handoff.initiate';
/** The event that tells the caller (Contact Center, Copilot Studio, a test) why the leg could not run. */
export const AGENT_LEG_ERROR_EVENT_NAME = 'agentLeg.error';
/**
 * The transcript attachment as Bot Framework's `EventFactory.CreateHandoffInitiation` and Copilot
 * Studio's own `handoff.initiate` carry it: JSON content `{ activities: [...] }`, named "Transcript".
 */
export const TRANSCRIPT_ATTACHMENT_CONTENT_TYPE = 'application/json';
export const TRANSCRIPT_ATTACHMENT_NAME = 'Transcript';

/** An activity to send (the SDK fills conversation, ids and addresses from the incoming one). */
export interface ReplyActivity {
  readonly type: 'message' | 'event' | 'endOfConversation';
  readonly text?: string;
  readonly speak?: string;
  readonly inputHint?: string;
  readonly locale?: string;
  readonly name?: string;
  readonly value?: unknown;
  readonly code?: string;
  readonly attachments?: readonly { contentType: string; name?: string; content: unknown }[];
}

export interface ConversationParties {
  readonly conversationId: string;
  readonly channelId: string;
  readonly agent: { readonly id: string; readonly name?: string };
  readonly customer: { readonly id: string; readonly name?: string };
  readonly locale: string;
}

export function toReplyActivities(replies: readonly FlowReply[], parties: ConversationParties): ReplyActivity[] {
  return replies.map((reply) => toReplyActivity(reply, parties));
}

function toReplyActivity(reply: FlowReply, parties: ConversationParties): ReplyActivity {
  switch (reply.kind) {
    case 'say':
      return { type: 'message', text: reply.text, speak: toSsml(reply.text, parties.locale), inputHint: reply.inputHint, locale: parties.locale };
    case 'handoff':
      return {
        type: 'event',
        name: HANDOFF_EVENT_NAME,
        value: toHandoffValue(reply.handoff),
        attachments: [
          {
            contentType: TRANSCRIPT_ATTACHMENT_CONTENT_TYPE,
            name: TRANSCRIPT_ATTACHMENT_NAME,
            content: { activities: reply.handoff.transcript.map((entry) => toTranscriptActivity(entry, parties)) },
          },
        ],
      };
    case 'error':
      return {
        type: 'event',
        name: AGENT_LEG_ERROR_EVENT_NAME,
        value: { code: reply.code, message: reply.message, ...(reply.issues === undefined ? {} : { issues: reply.issues }) },
      };
    case 'end':
      return { type: 'endOfConversation', code: reply.code };
  }
}

/**
 * The `value` of our `handoff.initiate`: Copilot Studio's va_* fields at the top level (as hubs that
 * understand Copilot Studio read them), then routing (queue, skills, priority) and the delivery's
 * context. Input attributes stay under `attributes` so they cannot collide with these names.
 */
export function toHandoffValue(handoff: HandoffRequest): Record<string, unknown> {
  return {
    ...handoff.copilotStudio,
    queue: handoff.queue,
    primaryQueue: handoff.primaryQueue,
    fallbackUsed: handoff.fallbackUsed,
    skills: handoff.skills,
    priority: handoff.priority,
    priorityRank: PRIORITY_RANK[handoff.priority],
    engagementId: handoff.engagementId,
    engagementName: handoff.engagementName,
    deliveryId: handoff.deliveryId,
    attempt: handoff.attempt,
    disposition: handoff.disposition,
    ...(handoff.firstName === undefined ? {} : { firstName: handoff.firstName }),
    locale: handoff.locale,
    attributes: handoff.attributes,
  };
}

function toTranscriptActivity(entry: TranscriptEntry, parties: ConversationParties): Record<string, unknown> {
  const agent = { ...parties.agent, role: 'bot' };
  const customer = { ...parties.customer, role: 'user' };
  return {
    type: 'message',
    timestamp: entry.at,
    channelId: parties.channelId,
    conversation: { id: parties.conversationId },
    from: entry.from === 'agent' ? agent : customer,
    recipient: entry.from === 'agent' ? customer : agent,
    text: entry.text,
  };
}

/** Plain sentences wrapped as SSML for the voice channel; markup characters are escaped, not interpreted. */
export function toSsml(text: string, locale: string): string {
  return `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${escapeXml(locale)}">${escapeXml(text)}</speak>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
