// A minimal app for the local host's own tests: one route per auth level, each echoing what it got.
import { app } from '@azure/functions';

const echo = async (request) => ({ status: 200, jsonBody: { id: request.params.id ?? null, bytes: (await request.text()).length } });
app.http('open', { methods: ['GET', 'POST'], route: 'open/{id?}', authLevel: 'anonymous', handler: echo });
app.http('keyed', { methods: ['GET', 'POST'], route: 'keyed', authLevel: 'function', handler: echo });
app.http('admin', { methods: ['GET'], route: 'admin/thing', authLevel: 'admin', handler: echo });
