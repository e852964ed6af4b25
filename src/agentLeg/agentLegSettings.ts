import { z } from 'zod';
import { UserError } from '../errors.js';
import { isRunningInAzure } from '../settings/settings.js';

/**
 * Hosts the bot replies to when it runs in Azure and AGENT_LEG_ALLOWED_SERVICE_URLS is not set: the
 * Bot Framework channel service (public and US Government clouds) and Teams' regional endpoints.
 */
export const DEFAULT_SERVICE_URL_HOSTS = ['*.botframework.com', '*.botframework.us', '*.botframework.azure.us', 'smba.trafficmanager.net'] as const;

const hostPattern = z.string().regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'expected a host name such as "smba.trafficmanager.net" or "*.botframework.com"');

/**
 * How the agent leg reaches Copilot Studio agents (engagements whose `agentLeg.engine` is copilot-studio):
 * the token kind, the Entra app that gets it, and a direct-connect base URL for agents named without an
 * environment (the local stand-in). Tokens are for `https://api.powerplatform.com/.default` (the cloud's
 * own audience elsewhere) and the app needs the Power Platform API permission `CopilotStudio.Copilots.Invoke`.
 */
const copilotStudioSettingsSchema = z
  .strictObject({
    /** `app-only` (client credentials), `delegated` (a service account signs in), or `none` (local stand-in only). */
    auth: z.enum(['app-only', 'delegated', 'none']),
    tenantId: z.uuid('expected an Entra tenant id, a GUID').optional(),
    clientId: z.uuid('expected the Entra application (client) id, a GUID').optional(),
    clientSecret: z.string().min(1).optional(),
    /** App-only through the function app's managed identity (user-assigned when clientId is given). */
    managedIdentity: z.boolean().default(false),
    /** Delegated: the service account's user principal name and password (an account without MFA prompts). */
    username: z.string().min(3).max(256).optional(),
    password: z.string().min(1).optional(),
    /** Base URL the agents' paths are appended to when an engagement names neither environmentId nor directConnectUrl. */
    directConnectUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.auth === 'app-only') {
      if (!s.managedIdentity && (s.tenantId === undefined || s.clientId === undefined || s.clientSecret === undefined)) {
        issue('auth', 'app-only needs AGENT_LEG_COPILOT_STUDIO_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET, or _USE_MANAGED_IDENTITY=true');
      }
    }
    if (s.auth === 'delegated') {
      if (s.tenantId === undefined || s.clientId === undefined)
        issue('auth', 'delegated needs AGENT_LEG_COPILOT_STUDIO_TENANT_ID and _CLIENT_ID (a public client app registration)');
      if (s.username === undefined || s.password === undefined)
        issue('auth', 'delegated needs AGENT_LEG_COPILOT_STUDIO_USERNAME and _PASSWORD (the service account)');
    }
  });
export type CopilotStudioSettings = Readonly<z.output<typeof copilotStudioSettingsSchema>>;

/**
 * The agent leg's own settings: who the bot is (Entra app registration), who may call it, and what it
 * is called. Without an app id the endpoint is anonymous, like the Bot Framework Emulator expects,
 * which is refused in production.
 */
export const agentLegSettingsSchema = z
  .strictObject({
    /** Entra application (client) id of the bot: the audience incoming tokens must carry. */
    appId: z.uuid("expected the bot's Entra application (client) id, a GUID").optional(),
    /** Entra tenant of the app registration: incoming Entra tokens must be issued by it. */
    tenantId: z.uuid('expected an Entra tenant id, a GUID').optional(),
    /** How the bot gets tokens to reply on a channel's serviceUrl (not needed for expectReplies callers). */
    credential: z
      .discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('client-secret'), secret: z.string().min(1) }),
        /** A user-assigned managed identity whose client id is `appId` (Azure Bot "UserAssignedMSI"). */
        z.strictObject({ kind: z.literal('managed-identity') }),
      ])
      .optional(),
    /**
     * App ids of agents allowed to call this one as a skill (the Copilot Studio agent's app id); `*`
     * allows any. Tokens from the Bot Framework channel service (the bot's own Azure Bot channels)
     * need no entry.
     */
    allowedCallers: z.array(z.union([z.uuid('expected an app id (GUID) or "*"'), z.literal('*')])).default([]),
    /** How the agent introduces itself ("Hello, this is ..."): the business calling, as the law asks. */
    agentName: z.string().trim().min(1).max(100).default('the Contoso virtual assistant'),
    /** Public base URL of the function app, for the skill manifest (else taken from the request). */
    publicBaseUrl: z.url().optional(),
    /**
     * Hosts outbound replies may go to (an activity's serviceUrl); `*.` matches any subdomain. Unset:
     * DEFAULT_SERVICE_URL_HOSTS in production, any host locally (the Emulator, test channels).
     */
    allowedServiceUrlHosts: z.array(hostPattern).optional(),
    /** Production refuses to run without an app id (no anonymous bot endpoint on the internet). */
    production: z.boolean().default(false),
    /** Copilot Studio connection; absent when no AGENT_LEG_COPILOT_STUDIO_* setting is given (then `auth: none`). */
    copilotStudio: copilotStudioSettingsSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.production && s.appId === undefined) issue('appId', 'an app id is required in production (anonymous is for local runs only)');
    if (s.appId !== undefined && s.tenantId === undefined) issue('tenantId', 'a tenant id is required with an app id');
    if (s.appId !== undefined && s.credential === undefined) {
      issue('credential', 'a client secret or managed identity is required with an app id, to reply on the channel');
    }
    if (s.production && s.copilotStudio?.auth === 'none') {
      issue('copilotStudio', 'AGENT_LEG_COPILOT_STUDIO_AUTH=none (no token) is for the local stand-in only, not production');
    }
    if (s.appId === undefined && s.allowedCallers.length > 0) {
      issue('allowedCallers', 'allowed callers need an app id: an anonymous endpoint cannot check callers');
    }
  });
export type AgentLegSettings = Readonly<z.output<typeof agentLegSettingsSchema>>;
export type AgentLegSettingsInput = z.input<typeof agentLegSettingsSchema>;

/** App setting names, as `local.settings.sample.json` lists them. */
export const AGENT_LEG_SETTING_NAMES = {
  appId: 'AGENT_LEG_APP_ID',
  tenantId: 'AGENT_LEG_TENANT_ID',
  clientSecret: 'AGENT_LEG_CLIENT_SECRET',
  managedIdentity: 'AGENT_LEG_USE_MANAGED_IDENTITY',
  allowedCallers: 'AGENT_LEG_ALLOWED_CALLERS',
  allowedServiceUrls: 'AGENT_LEG_ALLOWED_SERVICE_URLS',
  agentName: 'AGENT_LEG_NAME',
  publicBaseUrl: 'AGENT_LEG_PUBLIC_BASE_URL',
  copilotStudioAuth: 'AGENT_LEG_COPILOT_STUDIO_AUTH',
  copilotStudioTenantId: 'AGENT_LEG_COPILOT_STUDIO_TENANT_ID',
  copilotStudioClientId: 'AGENT_LEG_COPILOT_STUDIO_CLIENT_ID',
  copilotStudioClientSecret: 'AGENT_LEG_COPILOT_STUDIO_CLIENT_SECRET',
  copilotStudioManagedIdentity: 'AGENT_LEG_COPILOT_STUDIO_USE_MANAGED_IDENTITY',
  copilotStudioUsername: 'AGENT_LEG_COPILOT_STUDIO_USERNAME',
  copilotStudioPassword: 'AGENT_LEG_COPILOT_STUDIO_PASSWORD',
  copilotStudioDirectConnectUrl: 'AGENT_LEG_COPILOT_STUDIO_DIRECT_CONNECT_URL',
} as const;

/** Validates settings given as values; throws a UserError naming every bad one. */
export function parseAgentLegSettings(input: AgentLegSettingsInput): AgentLegSettings {
  const result = agentLegSettingsSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${issue.path.length === 0 ? '(agent leg)' : issue.path.map(String).join('.')}: ${issue.message}`);
    throw new UserError('InvalidSettings', `invalid agent leg settings:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

/**
 * Reads the agent leg settings from app settings (see AGENT_LEG_SETTING_NAMES). Production is Azure's
 * `AZURE_FUNCTIONS_ENVIRONMENT=Production`, `NODE_ENV=production`, or running in App Service
 * (`WEBSITE_SITE_NAME` / `WEBSITE_INSTANCE_ID`). The secret is never echoed.
 */
export function loadAgentLegSettings(env: Readonly<Record<string, string | undefined>> = process.env): AgentLegSettings {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const secret = value(AGENT_LEG_SETTING_NAMES.clientSecret);
  const managed = value(AGENT_LEG_SETTING_NAMES.managedIdentity)?.toLowerCase() === 'true';
  const callers = value(AGENT_LEG_SETTING_NAMES.allowedCallers);
  const serviceUrls = value(AGENT_LEG_SETTING_NAMES.allowedServiceUrls);
  const input: Record<string, unknown> = {
    appId: value(AGENT_LEG_SETTING_NAMES.appId),
    tenantId: value(AGENT_LEG_SETTING_NAMES.tenantId),
    credential: secret !== undefined ? { kind: 'client-secret', secret } : managed ? { kind: 'managed-identity' } : undefined,
    allowedCallers:
      callers === undefined
        ? []
        : callers
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c !== ''),
    allowedServiceUrlHosts: serviceUrls
      ?.split(',')
      .map((h) => h.trim())
      .filter((h) => h !== ''),
    agentName: value(AGENT_LEG_SETTING_NAMES.agentName),
    publicBaseUrl: value(AGENT_LEG_SETTING_NAMES.publicBaseUrl),
    // Azure sets neither of the first two by default: running in App Service / Functions is production too.
    production: env['AZURE_FUNCTIONS_ENVIRONMENT'] === 'Production' || env['NODE_ENV']?.toLowerCase() === 'production' || isRunningInAzure(env),
    copilotStudio: readCopilotStudioSettings(value),
  };
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  return parseAgentLegSettings(input);
}

/** Whether replies may be sent to this serviceUrl: https (any scheme locally) on an allowed host. */
export function isAllowedServiceUrl(serviceUrl: string, settings: AgentLegSettings): boolean {
  const hosts = settings.allowedServiceUrlHosts ?? (settings.production ? DEFAULT_SERVICE_URL_HOSTS : undefined);
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return false;
  }
  if (settings.production && url.protocol !== 'https:') return false;
  if (hosts === undefined) return true;
  const host = url.hostname.toLowerCase();
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
  });
}

/** The AGENT_LEG_COPILOT_STUDIO_* settings, or undefined when none is set. Secrets pass through unechoed. */
function readCopilotStudioSettings(value: (name: string) => string | undefined): Record<string, unknown> | undefined {
  const names = AGENT_LEG_SETTING_NAMES;
  const fields: Record<string, unknown> = {
    auth: value(names.copilotStudioAuth),
    tenantId: value(names.copilotStudioTenantId),
    clientId: value(names.copilotStudioClientId),
    clientSecret: value(names.copilotStudioClientSecret),
    managedIdentity: value(names.copilotStudioManagedIdentity)?.toLowerCase() === 'true' ? true : undefined,
    username: value(names.copilotStudioUsername),
    password: value(names.copilotStudioPassword),
    directConnectUrl: value(names.copilotStudioDirectConnectUrl),
  };
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
  if (Object.keys(fields).length === 0) return undefined;
  return { auth: 'none', ...fields };
}
