import { app } from '@azure/functions';
import { installAgentLegRuntime } from './runtime.js';

// Request bodies arrive as streams, so a 100k-member segment page is parsed as it arrives instead of
// being buffered whole by the host first. Imported by every entry file before it registers.
app.setup({ enableHttpStream: true });
installAgentLegRuntime();
