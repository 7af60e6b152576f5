// Runtime-neutral (no `node:*`). Training provenance as SLSA provenance v1;
// datasets appear as resolved dependencies by their own OMS root digest.
import { ModelSigningError } from '../../errors.js';
import { arrayField, isRecord, schemaValidator, stringField, type PredicateType } from './predicate-type.js';
import { RESOURCE_DESCRIPTOR_SCHEMA, describeResource, type ResourceDescriptor } from './resource-descriptor.js';

/** The SLSA provenance v1 predicate type (slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';

const resources = { type: 'array', items: RESOURCE_DESCRIPTOR_SCHEMA } as const;

/**
 * SLSA provenance v1's required fields as a JSON Schema (SLSA publishes CUE
 * and protobuf, no JSON Schema): `buildDefinition` with `buildType` and
 * `externalParameters`, `runDetails` with `builder.id`. Unknown fields are
 * allowed, as the specification asks consumers to ignore them.
 */
const SCHEMA = {
  type: 'object',
  required: ['buildDefinition', 'runDetails'],
  properties: {
    buildDefinition: {
      type: 'object',
      required: ['buildType', 'externalParameters'],
      properties: {
        buildType: { type: 'string', format: 'uri' },
        externalParameters: { type: 'object' },
        internalParameters: { type: 'object' },
        resolvedDependencies: resources,
      },
    },
    runDetails: {
      type: 'object',
      required: ['builder'],
      properties: {
        builder: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string', format: 'uri' },
            builderDependencies: resources,
            version: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        metadata: {
          type: 'object',
          properties: {
            invocationId: { type: 'string' },
            startedOn: { type: 'string', format: 'date-time' },
            finishedOn: { type: 'string', format: 'date-time' },
          },
        },
        byproducts: resources,
      },
    },
  },
} as const;

/** Training provenance: SLSA provenance v1. */
export const slsaProvenance: PredicateType = {
  uri: SLSA_PROVENANCE_PREDICATE_TYPE,
  title: 'SLSA provenance',
  validate: schemaValidator('SLSA provenance', async () => ({ schema: SCHEMA })),
  describe(predicate) {
    const definition = isRecord(predicate) ? predicate['buildDefinition'] : undefined;
    const run = isRecord(predicate) ? predicate['runDetails'] : undefined;
    const builder = isRecord(run) ? run['builder'] : undefined;
    const lines = [`build type: ${stringField(definition, 'buildType') ?? '?'}`, `builder: ${stringField(builder, 'id') ?? '?'}`];
    for (const dependency of arrayField(definition, 'resolvedDependencies')) lines.push(`input: ${describeResource(dependency)}`);
    return lines;
  },
};

/**
 * A dataset (or any directory of files) as a SLSA resolved dependency, named
 * by its OMS root digest: the `sha256` that `model-signing digest DIR`
 * prints and that a signature of the dataset carries as its subject.
 */
export function datasetDependency(params: { name: string; rootDigest: string; uri?: string }): ResourceDescriptor {
  if (!/^[0-9a-f]{64}$/i.test(params.rootDigest)) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'rootDigest must be a SHA-256 root digest (64 hex digits)' });
  }
  return {
    name: params.name,
    ...(params.uri === undefined ? {} : { uri: params.uri }),
    digest: { sha256: params.rootDigest.toLowerCase() },
  };
}

/** A copy of a provenance predicate with more resolved dependencies (e.g. datasets by root digest). */
export function withResolvedDependencies(
  provenance: Record<string, unknown>,
  dependencies: readonly ResourceDescriptor[],
): Record<string, unknown> {
  const definition = isRecord(provenance['buildDefinition']) ? provenance['buildDefinition'] : {};
  return {
    ...provenance,
    buildDefinition: { ...definition, resolvedDependencies: [...arrayField(definition, 'resolvedDependencies'), ...dependencies] },
  };
}
