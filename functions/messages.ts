import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { messagesFunction } from '../src/agentLeg/agentLegFunctions.js';

app.http('messages', messagesFunction);
