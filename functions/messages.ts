import { app } from '@azure/functions';
import '../src/appSetup.js';
import { messagesFunction } from '../src/agentLeg/messagesFunction.js';

app.http('messages', messagesFunction);
