import type { UserConfig } from 'vitest/config';

/** The one vitest configuration of every package's tests; `execArgv` for what one package needs beyond the rest. */
export function packageTestConfig(options?: { execArgv?: string[] }): UserConfig;
