import type { HttpResponseInit } from '@azure/functions';
import type { WebResponse } from '@microsoft/agents-hosting';

/**
 * The Agents SDK writes its answer to an Express-style response; Azure Functions wants a returned
 * `HttpResponseInit`. This records what the SDK wrote and converts it once the SDK is done.
 */
export class WebResponseRecorder implements WebResponse {
  statusCode = 200;
  readonly headers: Record<string, string> = {};
  body: unknown = undefined;
  headersSent = false;
  writableEnded = false;

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  send(body?: unknown): this {
    this.body = body;
    this.headersSent = true;
    return this;
  }

  end(): this {
    this.headersSent = true;
    this.writableEnded = true;
    return this;
  }

  toHttpResponse(): HttpResponseInit {
    if (this.body === undefined || this.body === null) return { status: this.statusCode, headers: this.headers };
    if (typeof this.body === 'string') return { status: this.statusCode, headers: this.headers, body: this.body };
    return {
      status: this.statusCode,
      headers: { ...this.headers, 'content-type': 'application/json' },
      jsonBody: JSON.parse(JSON.stringify(this.body, toWireActivity)) as unknown,
    };
  }
}

/**
 * SDK activities keep their channel id in `_channelId` (the `channelId` getter is not serialised):
 * an expectReplies body written with plain JSON would carry `_channelId`, which no caller reads.
 */
function toWireActivity(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, '_channelId')) return value;
  const { _channelId, ...rest } = value as Record<string, unknown>;
  return { ...rest, channelId: _channelId };
}
