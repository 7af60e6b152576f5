import { ModelSigningError } from '../errors.js';

/** A transparency log entry's `kindVersion`. */
export interface LogEntryKind {
  kind: string;
  version: string;
}

/**
 * Refuses a bundle whose log entries are not Rekor v1 `dsse` 0.0.1 entries,
 * the one DSSE kind that both the reference (model_signing 1.1.1 on
 * sigstore-python 4.5.1) and sigstore-js verify. Rekor v2 has no common form:
 * the reference logs a DSSE envelope as `hashedrekord` 0.0.2 over its PAE,
 * which sigstore-js's body check refuses, and sigstore-js as `dsse` 0.0.2,
 * which the reference refuses (as it refuses `intoto` and `hashedrekord`
 * 0.0.1). Both verifiers of this package call this first, before any
 * proof, so they give the same verdict on such a bundle whatever else is in it.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID` naming the kind.
 */
export function checkLogEntryKinds(entries: readonly LogEntryKind[]): void {
  for (const { kind, version } of entries) {
    if (kind === 'dsse' && version === '0.0.1') continue;
    throw new ModelSigningError({
      code: 'SIGNATURE_INVALID',
      message:
        `The transparency log entry is a ${kind}/${version} entry; OMS Sigstore bundles are verified with Rekor v1 dsse/0.0.1 entries only, ` +
        'the kind model_signing 1.1.1 writes and verifies (Rekor v2 entries, dsse/0.0.2 or hashedrekord/0.0.2, are not supported)',
    });
  }
}
