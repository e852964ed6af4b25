import { app } from '@azure/functions';
import '../src/app/appSetup.js';
import { skillManifestFunction } from '../src/agentLeg/agentLegFunctions.js';

app.http('skillManifest', skillManifestFunction);
