// Runtime-neutral: what the Node and the web loader take and report alike,
// so one load is configured the same way wherever it runs.
import type { LoadProgress } from '@model-signing/core/browser';
import type { LoadLimits, TrustOptions, VerificationOutcome } from '@model-signing/core/internal';

/** What was verified, reported to `onVerified` just before onnxruntime sees a byte. */
export interface VerifiedOnnxModel extends VerificationOutcome {
  /** Model-relative path of the `.onnx` file loaded (`.` for a single-file signature). */
  modelFile: string;
  /** Model-relative paths of the external-data files the model refers to, each checked. */
  externalDataFiles: string[];
  /** Model-relative paths of every file whose bytes were checked. */
  files: string[];
  /**
   * Node, large external data only: the private directory holding the
   * verified copies; it is removed once the session exists (or creation fails).
   */
  stagingDirectory?: string;
}

/**
 * The options of a verified load that are the same in Node (`createVerifiedSession`) and on the web (`createVerifiedWebSession`):
 * whom to trust (a refusal creates no session), the signature limits, and these.
 */
export interface VerifiedLoadOptions extends TrustOptions, Pick<LoadLimits, 'maxBundleBytes' | 'maxClaimsBytes'> {
  /** Model-relative path of the `.onnx` file to load. Default: the only signed `.onnx` file. */
  modelFile?: string;
  /** Cancels the load: it rejects with `ABORTED` and no session is created. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file are read and checked (the model file, then its external data). */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Called once every file is verified and before onnxruntime sees a byte:
   * to show who signed and the verified claims, or for a check of your own
   * (throw to refuse the model).
   */
  onVerified?: (model: VerifiedOnnxModel) => void | Promise<void>;
}
