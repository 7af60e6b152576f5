// A trust policy from a file: read bounded, the files it names read relative
// to it, and its authorities made into Node's verifiers (which accept every
// PEM form node:crypto reads, Node's root store, and refresh Sigstore's
// trusted roots through TUF unless offline).
import path from 'node:path';
import { ModelSigningError } from '../errors.js';
import { CertificateVerifier } from '../methods/certificate/certificate-verifier.js';
import { KeyVerifier } from '../methods/key/key-verifier.js';
import type { TufOptions } from '../methods/sigstore/trust-config.js';
import { SigstoreVerifier } from '../methods/sigstore/verifier.js';
import type { AuthorityVerifiers, PolicyFile } from '../policy/authorities.js';
import type { CompilePolicyOptions, Policy } from '../policy/compile.js';
import { ANY_IDENTITY } from '../policy/create-policy.js';
import { DEFAULT_MAX_POLICY_BYTES } from '../policy/document.js';
import { PolicyInvalidError } from '../policy/errors.js';
import { readSignatureBytes } from './signature-file.js';

/** Options of {@link loadPolicy}. */
export interface LoadPolicyOptions extends Omit<CompilePolicyOptions, 'verifiers' | 'readFile' | 'name'> {
  /** Sigstore authorities: never contact TUF, use the trusted roots shipped with this package. */
  offline?: boolean;
  /** Sigstore authorities: where and how long to try TUF when not offline. */
  tuf?: TufOptions;
}

/** Node's verifiers for a policy's authorities. */
export function nodeAuthorityVerifiers(options: Pick<LoadPolicyOptions, 'offline' | 'tuf'> = {}): AuthorityVerifiers {
  return {
    key: (publicKey) => KeyVerifier.create({ publicKey: Buffer.from(publicKey.text) }),
    certificate: ({ roots, useSystemRoots, identity }) =>
      CertificateVerifier.create({ certificateChain: roots.map((r) => Buffer.from(r.text)), useSystemRoots, identity }),
    sigstore: ({ identity, issuer, instance, trustConfig }) =>
      SigstoreVerifier.create({
        ...(identity !== undefined ? { identity } : { identityRegExp: ANY_IDENTITY }),
        identityProvider: issuer,
        useStaging: instance === 'staging',
        ...(trustConfig?.path !== undefined ? { trustConfig: trustConfig.path } : {}),
        ...(options.offline !== undefined ? { offline: options.offline } : {}),
        ...(options.tuf !== undefined ? { tuf: options.tuf } : {}),
      }),
  };
}

/** A file's bytes, at most `max` of them: a regular file only, read through the one bounded reader. */
async function readBounded(file: string, what: string, max: number): Promise<Uint8Array> {
  try {
    return await readSignatureBytes(file, { maxBundleBytes: max });
  } catch (err) {
    if (!(err instanceof ModelSigningError)) throw err;
    if (err.code === 'BUNDLE_TOO_LARGE') {
      throw new PolicyInvalidError(file, [{ path: '', message: `${what} is larger than ${max} bytes, the most read` }], err);
    }
    const reason = err.code === 'SPECIAL_FILE' ? 'it is not a regular file' : ((err.cause as Error | undefined)?.message ?? err.message);
    throw new ModelSigningError({ code: err.code, path: file, cause: err, message: `${what} '${file}' cannot be read: ${reason}` });
  }
}

/**
 * Reads a trust policy file (JSON or YAML, at most 1 MiB) and makes it
 * ready to decide: the key, certificate and trust config files it names are
 * read relative to the policy file's folder; key and certificate authorities
 * become Node's `KeyVerifier` and `CertificateVerifier`, Sigstore ones
 * `SigstoreVerifier`.
 *
 * @throws {PolicyInvalidError} `POLICY_INVALID` listing every problem (JSON path and line), a file the
 *   policy names that cannot be read among them; a policy larger than `maxBytes`.
 * @throws {ModelSigningError} `NOT_FOUND`, `SPECIAL_FILE` for the policy file itself.
 */
export async function loadPolicy(policyPath: string, options: LoadPolicyOptions = {}): Promise<Policy> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_POLICY_BYTES;
  const bytes = await readBounded(policyPath, 'The policy file', maxBytes);
  const base = path.dirname(path.resolve(policyPath));
  const readFile = async (name: string): Promise<PolicyFile> => {
    const file = path.resolve(base, name);
    const content = await readBounded(file, 'The file', DEFAULT_MAX_POLICY_BYTES);
    return { name, text: new TextDecoder().decode(content), path: file };
  };
  const { offline, tuf, ...compileOptions } = options;
  // Loaded here, not at start-up: the policy compiler brings the CEL engine and YAML (about 200 modules).
  const { compilePolicy } = await import('../policy/compile.js');
  return compilePolicy(bytes, {
    ...compileOptions,
    name: policyPath,
    verifiers: nodeAuthorityVerifiers({ ...(offline !== undefined ? { offline } : {}), ...(tuf !== undefined ? { tuf } : {}) }),
    readFile,
  });
}
