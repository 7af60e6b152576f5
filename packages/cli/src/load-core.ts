/**
 * Loads @model-signing/core on first use. Core pulls in the Sigstore and
 * hashing libraries; loading it lazily keeps `--help` and `--version` fast.
 */
export function loadCore(): Promise<typeof import('@model-signing/core')> {
  return import('@model-signing/core');
}
