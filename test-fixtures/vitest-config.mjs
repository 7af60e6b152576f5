// The one vitest configuration of every package's tests (and the action's):
// each package's vitest.config.ts calls this, so a rule for all tests is
// written once.
import { fileURLToPath } from 'node:url';

/**
 * @param {{ execArgv?: string[] }} [options] what one package needs beyond the rest
 */
export function packageTestConfig(options = {}) {
  // A plain object, as defineConfig returns: vitest is each package's dependency, not this folder's.
  return {
    test: {
      include: ['test/**/*.test.ts'],
      // A fresh XDG_CACHE_HOME for the run, and a failure if the user's real cache changed.
      globalSetup: [fileURLToPath(new URL('./user-cache-guard.mjs', import.meta.url))],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    },
  };
}
