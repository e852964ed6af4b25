import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { contactBatchesFunction } from '../src/dispatch/dispatchFunctions.js';

app.serviceBusQueue('contactBatches', contactBatchesFunction);
