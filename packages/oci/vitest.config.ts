import { packageTestConfig } from '../../test-fixtures/vitest-config.mjs';

export default packageTestConfig();
