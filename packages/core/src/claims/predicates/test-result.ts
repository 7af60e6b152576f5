// Runtime-neutral (no `node:*`). Evaluation results as in-toto test-result v0.1.
import { arrayField, schemaValidator, stringField, type PredicateType } from './predicate-type.js';
import { RESOURCE_DESCRIPTOR_SCHEMA, describeResource } from './resource-descriptor.js';

/** The in-toto test-result predicate type (in-toto/attestation `spec/predicates/test-result.md`). */
export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

/** An in-toto test-result v0.1 predicate: one run of a test suite (an evaluation). */
export interface TestResult {
  result: 'PASSED' | 'WARNED' | 'FAILED';
  /** What was run: the configuration, each a ResourceDescriptor (a file and its digest, a URI). */
  configuration: Record<string, unknown>[];
  url?: string;
  passedTests?: string[];
  warnedTests?: string[];
  failedTests?: string[];
}

const names = { type: 'array', items: { type: 'string' } } as const;

/** The specification's fields as a JSON Schema (in-toto publishes none): `result` and `configuration` are required. */
const SCHEMA = {
  type: 'object',
  required: ['result', 'configuration'],
  properties: {
    result: { enum: ['PASSED', 'WARNED', 'FAILED'] },
    configuration: { type: 'array', items: RESOURCE_DESCRIPTOR_SCHEMA },
    url: { type: 'string', format: 'uri' },
    passedTests: names,
    warnedTests: names,
    failedTests: names,
  },
} as const;

/** Evaluation results: in-toto test-result v0.1. */
export const testResult: PredicateType = {
  uri: TEST_RESULT_PREDICATE_TYPE,
  title: 'test result',
  validate: schemaValidator('test result', async () => ({ schema: SCHEMA })),
  describe(predicate) {
    const count = (key: string) => arrayField(predicate, key).length;
    const lines = [
      `result: ${stringField(predicate, 'result') ?? '?'} (${count('passedTests')} passed, ${count('warnedTests')} warned, ${count('failedTests')} failed)`,
    ];
    const failed = arrayField(predicate, 'failedTests').filter((t): t is string => typeof t === 'string');
    if (failed.length > 0)
      lines.push(`failed: ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ` and ${failed.length - 10} more` : ''}`);
    const url = stringField(predicate, 'url');
    if (url !== undefined) lines.push(`run: ${url}`);
    for (const c of arrayField(predicate, 'configuration')) lines.push(`configuration: ${describeResource(c)}`);
    return lines;
  },
};
