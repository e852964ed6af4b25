import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { segmentMembersFunction } from '../src/intake/intakeFunctions.js';

app.http('segmentMembers', segmentMembersFunction);
