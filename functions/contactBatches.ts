import { app } from '@azure/functions';
import '../src/appSetup.js';
import { contactBatchesFunction } from '../src/dispatch/dispatchFunctions.js';

app.serviceBusQueue('contactBatches', contactBatchesFunction);
