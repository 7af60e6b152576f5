import { ModelSigningError, type HashingOptions, type Policy, type Signer, type Verifier } from '@model-signing/core';
import { io } from '@tensorflow/tfjs-core';
import { signedSaveHandler } from './signed-save-handler.js';
import { verifiedLoadHandler } from './verified-load-handler.js';

/** Options for {@link registerSignedScheme}. */
export interface SignedSchemeOptions extends Pick<HashingOptions, 'method' | 'hashAlgorithm' | 'shardSize' | 'workers'> {
  /** URL scheme, without `://`. Default `signed`, for URLs like `signed://models/dense`. */
  scheme?: string;
  /** Signs on `model.save('<scheme>://dir')`. Without it, the scheme cannot save. */
  signer?: Signer;
  /** Verifies on `tf.loadLayersModel('<scheme>://dir')` / `tf.loadGraphModel(...)`. Without it, the scheme cannot load. */
  verifier?: Verifier;
  /** A trust policy in place of `verifier` (core's `loadPolicy`): its rule for each directory's real path decides on load. */
  policy?: Policy;
  /** Replace existing non-empty model directories on save. Default false. */
  overwrite?: boolean;
  /** Tolerate unsigned files in a directory on load (never in place of a model file). Default false. */
  ignoreUnsignedFiles?: boolean;
}

/** Schemes currently routed by this module; tfjs fails on two routers for one URL, so refuse early. */
const activeSchemes = new Set<string>();

type Router = Parameters<typeof io.registerLoadRouter>[0];

/**
 * Routes a URL scheme to the signing save handler and the verifying load
 * handler, so `model.save('signed://dir')` writes a signed model directory
 * and `tf.loadLayersModel('signed://dir')` refuses one that fails
 * verification. The path after `://` is a file-system path: relative to the
 * working directory, or absolute as in `signed:///srv/models/dense`.
 *
 * TensorFlow.js has no way to remove a router, so the returned function
 * disables this one: afterwards its URLs match no handler, and the scheme may
 * be registered again (e.g. with another key).
 *
 * @returns a function that unregisters the scheme.
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a malformed scheme, one
 *   already registered, neither a signer nor a verifier or policy, or both a verifier and a policy.
 */
export function registerSignedScheme(options: SignedSchemeOptions): () => void {
  const scheme = options.scheme ?? 'signed';
  if (!/^[a-z][a-z0-9+.-]*$/i.test(scheme)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `'${scheme}' is not a URL scheme; give letters, digits, '+', '.' or '-' without '://', e.g. 'signed'`,
    });
  }
  if (!options.signer && !options.verifier && !options.policy) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `Registering '${scheme}://' needs a signer (to save), a verifier or a policy (to load), or both`,
    });
  }
  if (options.verifier && options.policy) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: 'Give a verifier or a trust policy, not both: a policy says who must sign in place of one verifier',
    });
  }
  const key = scheme.toLowerCase();
  if (activeSchemes.has(key)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `'${scheme}://' is already registered; call the function the first registration returned before registering it again`,
    });
  }
  const prefix = `${key}://`;
  let active = true;
  const modelDirOf = (url: string | string[]): string | undefined => {
    if (!active || typeof url !== 'string' || url.slice(0, prefix.length).toLowerCase() !== prefix) return undefined;
    const modelDir = url.slice(prefix.length);
    if (modelDir === '') {
      throw new ModelSigningError({ code: 'INVALID_ARGUMENT', path: url, message: `'${url}' names no directory; use ${prefix}<path>` });
    }
    return modelDir;
  };

  const { signer, verifier, policy, overwrite, ignoreUnsignedFiles, method, hashAlgorithm, shardSize, workers } = options;
  const hashing = { method, hashAlgorithm, shardSize, workers };
  if (signer) {
    const route = (url: string | string[]) => {
      const modelDir = modelDirOf(url);
      return modelDir === undefined ? null : signedSaveHandler({ ...hashing, modelDir, signer, overwrite: overwrite ?? false });
    };
    io.registerSaveRouter(route as Router);
  }
  const trust = verifier ? { verifier } : policy ? { policy } : undefined;
  if (trust) {
    const route = (url: string | string[]) => {
      const modelDir = modelDirOf(url);
      return modelDir === undefined ? null : verifiedLoadHandler({ modelDir, ...trust, ignoreUnsignedFiles: ignoreUnsignedFiles ?? false });
    };
    io.registerLoadRouter(route as Router);
  }
  activeSchemes.add(key);
  return () => {
    if (!active) return;
    active = false;
    activeSchemes.delete(key);
  };
}
