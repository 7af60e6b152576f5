// Runtime-neutral: what the Node and the web loader take and report alike,
// so one load is configured the same way wherever it runs.
import type {
  LoadProgress,
  ModelIdentity,
  Policy,
  PolicyOutcome,
  SignatureSource,
  SignerInfo,
  VerifiedClaim,
  VerifiedManifest,
  Verifier,
} from '@model-signing/core/browser';

/** What was verified, reported to `onVerified` just before onnxruntime sees a byte. */
export interface VerifiedOnnxModel {
  /** The signed manifest every byte was checked against. */
  manifest: VerifiedManifest;
  /** Who signed, as the verifier established it (key hint, certificate or Sigstore identity). */
  signer: SignerInfo;
  /** Which signature verified: the signature file as one bundle, or which line of a claims file (`claims.jsonl`). */
  source: SignatureSource;
  /**
   * The claims about the model that verified (from `claims.jsonl` as the
   * signature, or beside it): with a verifier, those it accepts; under a
   * policy, those that met the rule's claim requirements.
   */
  claims: VerifiedClaim[];
  /** With `policy`: its decision (the rule, each requirement) and every signer counted. */
  policy?: PolicyOutcome;
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
  /** Checks the signature and decides whom to trust: a core verifier (`KeyVerifier`, `WebKeyVerifier`, …). Give this or `policy`. */
  verifier?: Verifier;
  /**
   * A trust policy in place of `verifier` (core's `loadPolicy`, or
   * `createPolicy` on the web): its rule for the model says who must sign
   * and which claims must hold (`claims.jsonl` beside the signature counts);
   * a refusal is `POLICY_DENIED` naming the rule and the requirement, and no
   * session is created.
   */
  policy?: Policy;
  /**
   * With `policy`: how the model was addressed, which the rules match (a
   * Hugging Face repo it came from). Default: its real path in Node, its
   * URL (`baseUrl`) on the web.
   */
  model?: ModelIdentity;
  /** Largest `claims.jsonl` read beside the signature, in bytes (`BUNDLE_TOO_LARGE` above). Default four times `maxBundleBytes`. */
  maxClaimsBytes?: number;
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
   * to show who signed and the verified claims, or for a check of your own
   * (throw to refuse the model).
   */
  onVerified?: (model: VerifiedOnnxModel) => void | Promise<void>;
}
