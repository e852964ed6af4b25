import { z } from 'zod';

/**
 * Copilot Studio's own hand-off context (the `value` of the `handoff.initiate` it emits, and the `va_*`
 * variables it sets), as recorded payloads show them. The agent leg accepts them from Copilot Studio
 * and passes them on in the hand-off it emits, so a representative sees what Copilot Studio saw.
 * Copilot Studio's documentation names the last phrase `va_LastPhrases` while its payloads carry
 * `va_LastPhrase`: both are read, `va_LastPhrase` is written.
 */
const text = z.string().max(4000);
const textList = z.preprocess(
  // Context variables can only hold strings in some hubs: accept a lone string as a one-item list.
  (value) => (typeof value === 'string' ? [value] : value),
  z.array(z.string().max(4000)).max(200),
);

export const copilotStudioFieldsSchema = z
  .object({
    va_Scope: text.optional(),
    va_LastTopic: text.optional(),
    va_Topics: textList.optional(),
    va_LastPhrase: text.optional(),
    va_LastPhrases: text.optional(),
    va_Phrases: textList.optional(),
    va_ConversationId: text.optional(),
    va_AgentMessage: text.optional(),
    va_BotId: text.optional(),
    va_BotName: text.optional(),
    va_Language: text.optional(),
  })
  .transform(({ va_LastPhrases, ...fields }): CopilotStudioFields => {
    const lastPhrase = fields.va_LastPhrase ?? va_LastPhrases;
    return dropUndefined({ ...fields, va_LastPhrase: lastPhrase });
  });

export interface CopilotStudioFields {
  readonly va_Scope?: string;
  readonly va_LastTopic?: string;
  readonly va_Topics?: readonly string[];
  readonly va_LastPhrase?: string;
  readonly va_Phrases?: readonly string[];
  readonly va_ConversationId?: string;
  /** A private note for the representative. */
  readonly va_AgentMessage?: string;
  readonly va_BotId?: string;
  readonly va_BotName?: string;
  readonly va_Language?: string;
}

export const COPILOT_STUDIO_PREFIX = 'va_';

/** Picks the `va_*` members of a context object (other members are the caller's business). */
export function pickCopilotStudioMembers(source: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith(COPILOT_STUDIO_PREFIX)) picked[key] = value;
  }
  return picked;
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = member;
  return out as T;
}
