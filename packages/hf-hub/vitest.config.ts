import { packageTestConfig } from '../../test-fixtures/vitest-config.mjs';

// The memory test measures peak RSS: keep V8's young generation small so
// the peak reflects what the download holds, not how late the collector
// runs (with the default, uncollected garbage alone varied 5–65 MiB).
export default packageTestConfig({ execArgv: ['--max-semi-space-size=2'] });
