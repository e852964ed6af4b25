import type { FlowInput } from './agentLegFlow.js';
import { readCallContext } from './callContext.js';
import { copilotStudioFieldsSchema, pickCopilotStudioMembers, type CopilotStudioFields } from './copilotStudioFields.js';
import type { InboundActivity } from './inboundActivity.js';
import { HANDOFF_EVENT_NAME } from './toReplyActivities.js';

/**
 * Answering-machine detection arrives as an `event` with one of these names (the telephony's or
 * Copilot Studio's AMD topic), or as any activity whose `channelData.answeringMachineDetected` is true.
 */
export const MACHINE_EVENT_NAMES = ['answeringMachineDetected', 'machineDetected'] as const;

export interface AgentIdentity {
  readonly name: string;
  readonly id?: string;
}

/**
 * What an incoming activity means to the flow, in order: a context first (it may ride on the same
 * activity as the first answer), then the activity's own meaning. Activities that mean nothing to the
 * agent leg (typing, a conversationUpdate without context, unknown events) give no input.
 */
export function toFlowInputs(activity: InboundActivity, agent: AgentIdentity): FlowInput[] {
  const inputs: FlowInput[] = [];
  const context = readCallContext(activity);
  if (context.kind === 'valid') {
    inputs.push({
      kind: 'context',
      context: context.context,
      conversationId: activity.conversation.id,
      agentName: agent.name,
      ...(agent.id === undefined ? {} : { agentId: agent.id }),
      ...(isHandoffRequest(activity) ? { greet: false } : {}),
    });
  } else if (context.kind === 'invalid') {
    inputs.push({ kind: 'context-invalid', issues: context.issues, ...(context.ids === undefined ? {} : { ids: context.ids }) });
  }

  if (isMachineFlagged(activity)) {
    inputs.push({ kind: 'machine-detected' });
    return inputs;
  }
  switch (activity.type) {
    case 'message': {
      const text = activity.text?.trim() ?? '';
      if (text !== '') inputs.push({ kind: 'utterance', text });
      break;
    }
    case 'event':
      if ((MACHINE_EVENT_NAMES as readonly string[]).includes(activity.name ?? '')) inputs.push({ kind: 'machine-detected' });
      else if (isHandoffRequest(activity)) inputs.push({ kind: 'handoff-requested', fields: readHandoffFields(activity.value) });
      break;
    case 'endOfConversation':
      inputs.push({ kind: 'hangup' });
      break;
    default:
      break;
  }
  return inputs;
}

function isHandoffRequest(activity: InboundActivity): boolean {
  return activity.type === 'event' && activity.name === HANDOFF_EVENT_NAME;
}

function isMachineFlagged(activity: InboundActivity): boolean {
  const data = activity.channelData;
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>)['answeringMachineDetected'] === true;
}

/**
 * Copilot Studio's hand-off fields. A field that does not validate is dropped rather than refusing the
 * hand-off: the customer asked for a person, and a malformed note must not stand in the way.
 */
export function readHandoffFields(value: unknown): CopilotStudioFields {
  if (typeof value !== 'object' || value === null) return {};
  const members = pickCopilotStudioMembers(value as Record<string, unknown>);
  const whole = copilotStudioFieldsSchema.safeParse(members);
  if (whole.success) return whole.data;
  const kept: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(members)) {
    if (copilotStudioFieldsSchema.safeParse({ [key]: member }).success) kept[key] = member;
  }
  const retry = copilotStudioFieldsSchema.safeParse(kept);
  return retry.success ? retry.data : {};
}
