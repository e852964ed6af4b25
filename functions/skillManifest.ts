import { app } from '@azure/functions';
import '../src/appSetup.js';
import { skillManifestFunction } from '../src/agentLeg/skillManifest.js';

app.http('skillManifest', skillManifestFunction);
