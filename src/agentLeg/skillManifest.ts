import type { AgentLegSettings } from './agentLegSettings.js';
import { CONTEXT_EVENT_NAMES } from './callContext.js';
import { HANDOFF_EVENT_NAME } from './toReplyActivities.js';
import { MACHINE_EVENT_NAMES } from './toFlowInputs.js';

export const SKILL_MANIFEST_SCHEMA = 'https://schemas.botframework.com/schemas/skills/v2.2/skill-manifest.json';
/** The manifest needs an app id even for an anonymous local bot; the all-zero GUID says "none". */
const NO_APP_ID = '00000000-0000-0000-0000-000000000000';

const text = { type: 'string' } as const;
const textList = { type: 'array', items: text } as const;

// Value schemas are inlined and carry no `required` lists: Copilot Studio's skill validator has been
// reported to reject `$ref` in activity values and `required` in definitions, and the bot validates
// (and explains) what it receives anyway.
const callContextValue = {
  type: 'object',
  description:
    'The call context: engagementId, deliveryId, attempt and timeZone are required by the bot. Flat context variables are accepted too: every other member is an input attribute.',
  properties: {
    engagementId: { ...text, description: 'Engagement id in the engagement catalogue.' },
    deliveryId: { ...text, description: 'Delivery id (idempotency key of the call).' },
    attempt: { type: 'integer', minimum: 1, description: 'Attempt number, 1 for the first call.' },
    firstName: { ...text, description: "Contact's first name, for the right-party check." },
    timeZone: { ...text, description: "Contact's IANA time zone, e.g. America/New_York (callbacks are read in it)." },
    locale: { ...text, description: 'BCP 47 language tag; en-US by default.' },
    attributes: { type: 'object', description: 'Input attributes of the delivery (strings, numbers, booleans).' },
  },
} as const;

const copilotStudioProperties = {
  va_Scope: text,
  va_LastTopic: text,
  va_Topics: textList,
  va_LastPhrase: text,
  va_Phrases: textList,
  va_ConversationId: text,
  va_AgentMessage: text,
  va_BotId: text,
  va_BotName: text,
  va_Language: text,
} as const;

export interface SkillManifestInput {
  readonly endpointUrl: string;
  readonly settings: Pick<AgentLegSettings, 'appId' | 'agentName'>;
}

/** The Bot Framework skill manifest (v2.2) that lets Copilot Studio call the agent leg as a skill. */
export function buildSkillManifest({ endpointUrl, settings }: SkillManifestInput): Record<string, unknown> {
  const [contextEvent] = CONTEXT_EVENT_NAMES;
  const [machineEvent] = MACHINE_EVENT_NAMES;
  return {
    $schema: SKILL_MANIFEST_SCHEMA,
    $id: 'ProactiveEngagementAgentLeg',
    name: 'Proactive engagement agent leg',
    version: '1.0',
    description: `First leg of AI-led proactive calls (${settings.agentName}): right-party check, purpose, disposition, voicemail, and hand-off to a representative queue with context.`,
    publisherName: 'Proactive engagement connector',
    tags: ['proactive engagement', 'outbound voice', 'handoff'],
    endpoints: [
      {
        name: 'default',
        protocol: 'BotFrameworkV3',
        description: 'Agent leg messages endpoint',
        endpointUrl,
        msAppId: settings.appId ?? NO_APP_ID,
      },
    ],
    activities: {
      [contextEvent]: {
        type: 'event',
        name: contextEvent,
        description: 'Starts the agent leg for an answered call: greeting and right-party check.',
        value: callContextValue,
      },
      message: {
        type: 'message',
        description: "The customer's answer, as recognised speech text.",
      },
      [machineEvent]: {
        type: 'event',
        name: machineEvent,
        description: 'Answering machine detected: the agent leaves the engagement voicemail message or ends the call.',
      },
      [HANDOFF_EVENT_NAME]: {
        type: 'event',
        name: HANDOFF_EVENT_NAME,
        description:
          "Copilot Studio asks for a representative: the agent routes to the engagement's queue (fallback when the primary has nobody free) and passes the va_* fields on.",
        value: { type: 'object', properties: { ...copilotStudioProperties, ...callContextValue.properties } },
      },
    },
  };
}

/** `<base>/api/messages`, from the configured public URL or, failing that, the URL the manifest was fetched at. */
export function messagesEndpointUrl(requestUrl: string, publicBaseUrl: string | undefined): string {
  const base = publicBaseUrl ?? new URL(requestUrl).origin;
  return `${base.replace(/\/+$/, '')}/api/messages`;
}
