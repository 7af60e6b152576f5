// Runtime-neutral: what the Node and the web loaders take and report alike,
// so one load is configured the same way wherever it runs.
import type { LoadProgress } from '@model-signing/core/browser';
import type { LoadLimits, TrustOptions, VerificationOutcome } from '@model-signing/core/internal';

/** What was verified, reported to `onVerified` before TensorFlow.js sees a byte. */
export interface VerifiedTfjsModel extends VerificationOutcome {
  /** Model-relative names of the files checked: the model JSON, then its weight files (and, on disk, the other signed files). */
  files: string[];
}

/**
 * The options of a verified load that are the same in Node (`loadVerifiedArtifacts`, `verifiedLoadHandler`) and on the web (`verifiedHttpHandler`):
 * whom to trust (a refusal builds no model), the signature limits, and these.
 */
export interface VerifiedLoadOptions extends TrustOptions, Pick<LoadLimits, 'maxBundleBytes' | 'maxClaimsBytes'> {
  /** Cancels the load: it rejects with `ABORTED` and no model is built. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file are read and checked (the model JSON, then the weight files). */
  onProgress?: (progress: LoadProgress) => void;
  /** Called once every file is verified, before TensorFlow.js sees a byte: to show who signed and the claims, or to refuse (throw). */
  onVerified?: (model: VerifiedTfjsModel) => void | Promise<void>;
}
