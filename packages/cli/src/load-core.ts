/**
 * Loads core's Node API on first use: `--help` and `--version` never load it,
 * and no command loads core's runtime-neutral verifiers (PKI.js), whose
 * import alone would cost more than the rest of a `verify --trust-cache`.
 * Sigstore, PKCS#11 and KMS libraries load only when their method is used.
 */
export function loadCore(): Promise<typeof import('@model-signing/core')> {
  return import('@model-signing/core');
}
