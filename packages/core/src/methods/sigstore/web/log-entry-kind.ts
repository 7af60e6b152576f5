import { ModelSigningError } from '../../../errors.js';

/** A transparency log entry's `kindVersion`. */
export interface LogEntryKind {
  kind: string;
  version: string;
}

/** The entry kinds the reference (model_signing 1.1.1 on sigstore-python 4.5.1) logs and verifies a DSSE envelope with. */
const KINDS = ['dsse/0.0.1', 'hashedrekord/0.0.2'];

/**
 * Refuses log entries of another kind than the two the reference logs and
 * verifies a DSSE envelope with: Rekor v1 `dsse` 0.0.1, and Rekor v2
 * `hashedrekord` 0.0.2 over the envelope's PAE. sigstore-js also takes
 * `dsse` 0.0.2 (what it writes to Rekor v2), `intoto` 0.0.2 and
 * `hashedrekord` 0.0.1, which the reference refuses. All entries must be of
 * one kind, so the Node verifier can tell sigstore-js what a `hashedrekord`
 * digest covers. Both verifiers of this package call this first, before any
 * proof, so they give the same verdict whatever else is in the bundle.
 *
 * @throws {ModelSigningError} `SIGNATURE_INVALID` naming the kind.
 */
export function checkLogEntryKinds(entries: readonly LogEntryKind[]): void {
  const kinds = new Set(entries.map(({ kind, version }) => `${kind}/${version}`));
  for (const kind of kinds) {
    if (KINDS.includes(kind)) continue;
    throw new ModelSigningError({
      code: 'SIGNATURE_INVALID',
      message:
        `The transparency log entry is a ${kind} entry; OMS Sigstore bundles are verified with Rekor v1 dsse/0.0.1 or Rekor v2 hashedrekord/0.0.2 entries, ` +
        'the kinds model_signing 1.1.1 writes and verifies',
    });
  }
  if (kinds.size > 1) {
    throw new ModelSigningError({
      code: 'SIGNATURE_INVALID',
      message: `The bundle's transparency log entries are of different kinds (${[...kinds].join(', ')})`,
    });
  }
}
