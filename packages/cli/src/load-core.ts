/**
 * Loads core's Node API on first use: `--help` and `--version` never load it,
 * and no command loads core's runtime-neutral verifiers (PKI.js), whose
 * import alone would cost more than the rest of a `verify --trust-cache`.
 * Sigstore, PKCS#11 and KMS libraries load only when their method is used.
 */
export function loadCore(): Promise<typeof import('@model-signing/core')> {
  return import('@model-signing/core');
}

/** Core's Node helpers beyond its public API that the CLI shares (incremental plans, KMS URIs, cache snapshots); loaded as core is. */
export function loadCoreInternals(): Promise<typeof import('@model-signing/core/internal/node')> {
  return import('@model-signing/core/internal/node');
}

/** Core's runtime-neutral helpers beyond its public API that the CLI shares (claim predicates, resource order); loaded as core is. */
export function loadCoreNeutralInternals(): Promise<typeof import('@model-signing/core/internal')> {
  return import('@model-signing/core/internal');
}
