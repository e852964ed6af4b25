import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { deliveryAcceptFunction } from '../src/dispatch/dispatchFunctions.js';

app.http('deliveryAccept', deliveryAcceptFunction);
