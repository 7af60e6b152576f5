// Runtime-neutral (no `node:*`). The in-toto ResourceDescriptor that test
// results and SLSA provenance use to name artifacts, as a JSON Schema.

/**
 * in-toto Attestation Framework v1 ResourceDescriptor
 * (in-toto/attestation `spec/v1/resource_descriptor.md`): at least one of
 * `uri`, `digest` and `content`; digests are hex or base64 strings by algorithm.
 */
export const RESOURCE_DESCRIPTOR_SCHEMA = {
  type: 'object',
  properties: {
    uri: { type: 'string', minLength: 1 },
    digest: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1 } },
    name: { type: 'string' },
    downloadLocation: { type: 'string' },
    mediaType: { type: 'string' },
    content: { type: 'string' },
    annotations: { type: 'object' },
  },
  anyOf: [{ required: ['uri'] }, { required: ['digest'] }, { required: ['content'] }],
} as const;

/** An in-toto ResourceDescriptor. */
export interface ResourceDescriptor {
  uri?: string;
  digest?: Record<string, string>;
  name?: string;
  downloadLocation?: string;
  mediaType?: string;
  content?: string;
  annotations?: Record<string, unknown>;
}

/** `name` (or `uri`) and the digests of a descriptor, for one line of text. */
export function describeResource(resource: unknown): string {
  if (typeof resource !== 'object' || resource === null) return '?';
  const r = resource as ResourceDescriptor;
  const digests = typeof r.digest === 'object' && r.digest !== null ? Object.entries(r.digest).map(([a, d]) => `${a}:${String(d)}`) : [];
  return [r.name ?? r.uri ?? '(unnamed)', ...digests].join(' ');
}
