// Runtime-neutral: what the Node and the web loader take and report alike,
// so one load is configured the same way wherever it runs.
import type { LoadProgress, SignatureSource, SignerInfo, VerifiedManifest, Verifier } from '@model-signing/core/browser';

/** What was verified, reported to `onVerified` just before onnxruntime sees a byte. */
export interface VerifiedOnnxModel {
  /** The signed manifest every byte was checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
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

/** The options of a verified load that are the same in Node (`createVerifiedSession`) and on the web (`createVerifiedWebSession`). */
export interface VerifiedLoadOptions {
  /** Checks the signature and decides whom to trust: a core verifier (`KeyVerifier`, `WebKeyVerifier`, …). */
  verifier: Verifier;
  /** Model-relative path of the `.onnx` file to load. Default: the only signed `.onnx` file. */
  modelFile?: string;
  /** Largest signature read, in bytes (`BUNDLE_TOO_LARGE` above). Default 64 MiB (core's `DEFAULT_MAX_BUNDLE_BYTES`). */
  maxBundleBytes?: number;
  /** Cancels the load: it rejects with `ABORTED` and no session is created. */
  abortSignal?: AbortSignal;
  /** Called as bytes of each file are read and checked (the model file, then its external data). */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Called once every file is verified and before onnxruntime sees a byte:
   * to show who signed, or for a policy check (throw to refuse the model).
   */
  onVerified?: (model: VerifiedOnnxModel) => void | Promise<void>;
}
