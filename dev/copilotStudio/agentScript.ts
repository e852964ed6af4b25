import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Scripted Copilot Studio agents for the local stand-in: topics that say things and move on by intent,
 * the way a Copilot Studio agent's topics do (greet, right-party check, purpose, transfer, end).
 * `{name}` in any text is the conversation variable of that name (what the call context sent).
 */
const topicSchema = z.strictObject({
  /** Messages, in order. */
  say: z.array(z.string().min(1)).default([]),
  /** Send the messages as a streamed answer (typing chunks with streaminfo, then the final message). */
  stream: z.boolean().default(false),
  /** Next topic by intent of the customer's answer. */
  then: z.record(z.string(), z.string()).default({}),
  /** Transfer: a `handoff.initiate` event whose value holds these va_* fields. */
  transfer: z.record(z.string().regex(/^va_/), z.string()).optional(),
  /** End of conversation, its value holding these variables (disposition, callbackAt, or transferReason and va_*). */
  end: z.record(z.string(), z.string()).optional(),
  /** Never finish the answer (the stream stays open): a stalled agent, for time-out runs. */
  stall: z.boolean().default(false),
});
export type Topic = z.infer<typeof topicSchema>;

const agentSchema = z
  .strictObject({
    /** Intent name -> phrases; an answer matches when it contains a phrase as whole words. */
    intents: z.record(z.string(), z.array(z.string().min(1))),
    /** The topic the start event (Conversation Start) runs. */
    start: z.string(),
    /** Intents that lead to a topic whatever the current one is (asking for a person, stop calling). */
    anywhere: z.record(z.string(), z.string()).default({}),
    /** What is said when nothing matches; the current topic stays. */
    fallback: z.string().default("Sorry, I didn't get that."),
    topics: z.record(z.string(), topicSchema),
  })
  .superRefine((agent, ctx) => {
    const known = new Set(Object.keys(agent.topics));
    const check = (name: string, path: (string | number)[]) => {
      if (!known.has(name)) ctx.addIssue({ code: 'custom', path, message: `no topic named "${name}"` });
    };
    check(agent.start, ['start']);
    for (const [intent, topic] of Object.entries(agent.anywhere)) check(topic, ['anywhere', intent]);
    for (const [name, topic] of Object.entries(agent.topics))
      for (const [intent, next] of Object.entries(topic.then)) check(next, ['topics', name, 'then', intent]);
  });
export type AgentScript = z.infer<typeof agentSchema>;

export const agentScriptsSchema = z.strictObject({ agents: z.record(z.string().min(1), agentSchema) });
export type AgentScripts = z.infer<typeof agentScriptsSchema>;

export function loadAgentScripts(file: string): AgentScripts {
  const parsed = agentScriptsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid Copilot Studio script ${file}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The intent an answer matches: `anywhere` intents first, then the topic's own. */
export function matchIntent(agent: AgentScript, topic: Topic | undefined, text: string): string | undefined {
  const words = ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .trim()} `;
  const candidates = [...Object.keys(agent.anywhere), ...Object.keys(topic?.then ?? {})];
  for (const intent of candidates) {
    for (const phrase of agent.intents[intent] ?? []) if (words.includes(` ${phrase.toLowerCase()} `)) return intent;
  }
  return undefined;
}

export function fill(text: string, variables: Readonly<Record<string, unknown>>): string {
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const value = variables[name];
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : whole;
  });
}
