import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // This file lives in test/; paths below are relative to the project root.
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    // Captures what tests log, for the leak scan at the end of the run.
    setupFiles: ['test/support/logCapture.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Secrets and numbers must not leak into CI logs through debug output of the SDKs.
    env: { AZURE_LOG_LEVEL: '' },
  },
});
