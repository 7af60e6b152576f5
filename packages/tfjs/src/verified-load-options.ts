// Runtime-neutral: what the Node and the web loaders take and report alike,
// so one load is configured the same way wherever it runs.
import type { LoadProgress, SignatureSource, SignerInfo, VerifiedManifest, Verifier } from '@model-signing/core/browser';

/** What was verified, reported to `onVerified` before TensorFlow.js sees a byte. */
export interface VerifiedTfjsModel {
  /** The signed manifest every byte was checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
  /** Model-relative names of the files checked: the model JSON, then its weight files (and, on disk, the other signed files). */
  files: string[];
}

/** The options of a verified load that are the same in Node (`loadVerifiedArtifacts`, `verifiedLoadHandler`) and on the web (`verifiedHttpHandler`). */
export interface VerifiedLoadOptions {
  /** Checks the signature and decides whom to trust: a core verifier (`KeyVerifier`, `WebKeyVerifier`, …). */
  verifier: Verifier;
  /** Largest signature read, in bytes (`BUNDLE_TOO_LARGE` above). Default 64 MiB (core's `DEFAULT_MAX_BUNDLE_BYTES`). */
  maxBundleBytes?: number;
  /** Cancels the load: it rejects with `ABORTED` and no model is built. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file are read and checked (the model JSON, then the weight files). */
  onProgress?: (progress: LoadProgress) => void;
  /** Called once every file is verified, before TensorFlow.js sees a byte: to show who signed, or to refuse (throw). */
  onVerified?: (model: VerifiedTfjsModel) => void | Promise<void>;
}
