// Runtime-neutral: the walk applies this rule on disk, and loaders that see a
// listing (a hub, a browser) can apply the same one.

/**
 * Names of signature and attestation files at the model root, as the
 * reference's pending change (sigstore/model-transparency PR #590) and the OMS
 * spec's (ossf/model-signing-spec PR #4) define them: `claims.jsonl`,
 * `*.sig` and `*.sigstore.json`. A manifest we write never lists them, so
 * signatures and claims can be added beside a model without invalidating its
 * signature; `claims.jsonl` is recorded in the manifest's ignore paths even
 * when absent (a verifier that does not know this rule then ignores a claims
 * file added later), the others when present.
 */
export const ATTESTATION_FILE_PATTERNS: readonly string[] = ['claims.jsonl', '*.sig', '*.sigstore.json'];

/** The claims file every signature records as ignored, present or not. */
export const CLAIMS_FILE_NAME = 'claims.jsonl';

/**
 * Whether a model-relative POSIX path is a signature or attestation file
 * ({@link ATTESTATION_FILE_PATTERNS}): a file directly at the model root, as
 * the reference matches them (its glob does not descend).
 */
export function isAttestationFile(name: string): boolean {
  if (name.includes('/')) return false;
  return name === CLAIMS_FILE_NAME || name.endsWith('.sig') || name.endsWith('.sigstore.json');
}
