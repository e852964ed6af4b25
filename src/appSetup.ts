import { app } from '@azure/functions';
import { loadAgentLegSettings } from './agentLeg/agentLegSettings.js';
import { disposeRuntime, getRuntime, installAgentLegRuntime } from './runtime.js';

// Request bodies arrive as streams, so a 100k-member segment page is parsed as it arrives instead of
// being buffered whole by the host first. Imported by every entry file before it registers.
app.setup({ enableHttpStream: true });
installAgentLegRuntime();

// Settings and the engagement file are validated when the app starts, not at the first request: an
// invalid file fails start-up with the engagement id and field path of every problem.
app.hook.appStart(async () => {
  loadAgentLegSettings(process.env);
  await getRuntime();
});

// The host runs this when it shuts down (the local host too): connections and timers close cleanly.
app.hook.appTerminate(async () => {
  await disposeRuntime();
});
