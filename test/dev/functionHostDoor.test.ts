import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunctionHost, type FunctionHost } from '../../dev/functionHost.js';

/**
 * The local host's own door, on a minimal app (test/dev/hostFixture): no single request can stop it,
 * bodies have a limit, and function keys are enforced when asked for.
 */
const KEYS = { master: 'master-key-for-the-door-test', function: 'function-key-for-the-door-test' };
const LIMIT = 1_024;
let host: FunctionHost;
let port = 0;

beforeAll(async () => {
  host = await startFunctionHost({
    projectRoot: fileURLToPath(new URL('./hostFixture/', import.meta.url)),
    port: 0,
    maxBodyBytes: LIMIT,
    keys: KEYS,
    log: () => undefined,
  });
  port = Number(new URL(host.url).port);
});
afterAll(async () => host.stop());

/** Sends raw HTTP/1.1 (fetch would normalise the very URLs and headers under test) and returns status and body. */
function raw(request: string, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request + body));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const head = data.slice(0, data.indexOf('\r\n\r\n'));
      let rest = data.slice(head.length + 4);
      if (!/^transfer-encoding: chunked/im.test(head)) return resolve({ status, body: Buffer.from(rest, 'latin1').toString('utf8') });
      let decoded = '';
      for (;;) {
        const size = parseInt(rest.slice(0, rest.indexOf('\r\n')), 16);
        if (!(size > 0)) break;
        const start = rest.indexOf('\r\n') + 2;
        decoded += rest.slice(start, start + size);
        rest = rest.slice(start + size + 2);
      }
      resolve({ status, body: Buffer.from(decoded, 'latin1').toString('utf8') });
    });
  });
}

const get = (path: string, headers = 'Host: localhost\r\n') => raw(`GET ${path} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);

describe('the local host at its door', () => {
  it('malformed percent-encoding in a route parameter is a 400, and the host keeps serving', async () => {
    const bad = await get('/api/open/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'BadRequest', message: 'malformed percent-encoding in the path' });
    const good = await get('/api/open/caf%C3%A9');
    expect(good.status).toBe(200);
    expect(JSON.parse(good.body)).toMatchObject({ id: 'café' });
  });

  it('a bad Host header or an absolute-form target is a 400', async () => {
    expect((await get('/api/open/x', 'Host: a b[\r\n')).status).toBe(400);
    expect((await get('/api/open/x', 'Host: exa_mple.com:99999999\r\n')).status).toBe(400);
    expect((await get('http://elsewhere/api/open/x')).status).toBe(400);
    expect((await raw('NOT HTTP AT ALL\r\n\r\n')).status).toBe(400);
    expect((await get('/api/open/x')).status).toBe(200);
  });

  it('a body over the limit is a 413, declared or chunked; one at the limit is served', async () => {
    const at = 'a'.repeat(LIMIT);
    const ok = await raw(`POST /api/open/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${LIMIT}\r\nConnection: close\r\n\r\n`, at);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ bytes: LIMIT });
    const declared = await raw(`POST /api/open/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${LIMIT + 1}\r\nConnection: close\r\n\r\n`, `${at}b`);
    expect(declared.status).toBe(413);
    const chunk = 'b'.repeat(700);
    const chunked = await raw(
      'POST /api/open/x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      `2bc\r\n${chunk}\r\n2bc\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'PayloadTooLarge' });
  });

  it('function keys: function routes take the function or master key, admin routes only the master key, anonymous none', async () => {
    expect((await get('/api/keyed')).status).toBe(401);
    expect((await get('/api/keyed', `Host: localhost\r\nx-functions-key: wrong\r\n`)).status).toBe(401);
    expect((await get('/api/keyed', `Host: localhost\r\nx-functions-key: ${KEYS.function}\r\n`)).status).toBe(200);
    expect((await get(`/api/keyed?code=${KEYS.master}`)).status).toBe(200);
    expect((await get(`/api/admin/thing?code=${KEYS.function}`)).status).toBe(401);
    expect((await get('/api/admin/thing', `Host: localhost\r\nx-functions-key: ${KEYS.master}\r\n`)).status).toBe(200);
    expect((await get('/api/open/x')).status).toBe(200);
  });
});
