import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A fresh XDG_CACHE_HOME for the run, and a failure if the user's real cache changed.
    globalSetup: ['../../test-fixtures/user-cache-guard.mjs'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The memory test measures peak RSS: keep V8's young generation small so
    // the peak reflects what the download holds, not how late the collector
    // runs (with the default, uncollected garbage alone varied 5–65 MiB).
    execArgv: ['--max-semi-space-size=2'],
  },
});
