// Runtime-neutral (no `node:*`). A policy for any JavaScript runtime with
// WebCrypto: its authorities become the runtime-neutral verifiers
// (WebKeyVerifier, WebCertificateVerifier, WebSigstoreVerifier, loaded on
// first use), and the files it names are read by the caller's `readFile`
// (a browser has no files: fetch them, or write the PEM inline).
import { ModelSigningError } from '../errors.js';
import type { AuthorityVerifiers, PolicyFile } from './authorities.js';
import type { CompilePolicyOptions, Policy } from './compile.js';

/** A Sigstore verifier that accepts any identity: the policy checks its RE2 expression on the identity it proves. */
export const ANY_IDENTITY = '[\\s\\S]*';

/** The runtime-neutral verifiers a policy's authorities become. */
export const webAuthorityVerifiers: AuthorityVerifiers = {
  async key(publicKey) {
    const { WebKeyVerifier } = await import('../methods/key/web-key-verifier.js');
    return WebKeyVerifier.create({ publicKey: publicKey.text });
  },
  async certificate({ roots, useSystemRoots, identity }) {
    if (useSystemRoots) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'useSystemRoots needs Node (its bundled root store); name the roots instead',
      });
    }
    const { WebCertificateVerifier } = await import('../methods/certificate/web-certificate-verifier.js');
    return WebCertificateVerifier.create({ certificateChain: roots.map((r) => r.text), identity });
  },
  async sigstore({ identity, issuer, instance, trustConfig }) {
    const { WebSigstoreVerifier } = await import('../methods/sigstore/web/verifier.js');
    return WebSigstoreVerifier.create({
      ...(identity !== undefined ? { identity } : { identityRegExp: ANY_IDENTITY }),
      identityProvider: issuer,
      useStaging: instance === 'staging',
      ...(trustConfig ? { trustedRoot: trustConfig.text } : {}),
    });
  },
};

/** Options of {@link createPolicy}. */
export interface CreatePolicyOptions extends Omit<CompilePolicyOptions, 'verifiers' | 'readFile'> {
  /** Reads a file the policy names (a key, trust anchors, a trust config): e.g. fetched beside the policy. */
  readFile?: (name: string) => Promise<string | Uint8Array>;
}

/**
 * Makes a policy from its text (JSON or YAML) with the runtime-neutral
 * verifiers: for browsers and workers (`@model-signing/core/browser`).
 * Node's `loadPolicy` reads a policy file and the files it names.
 *
 * @throws {PolicyInvalidError} `POLICY_INVALID` listing every problem with its JSON path (and line).
 */
export async function createPolicy(source: string | Uint8Array, options: CreatePolicyOptions = {}): Promise<Policy> {
  const { readFile, ...rest } = options;
  // Loaded on first use: the policy compiler brings the CEL engine and YAML, which a page without a policy never needs.
  const { compilePolicy } = await import('./compile.js');
  return compilePolicy(source, {
    ...rest,
    verifiers: webAuthorityVerifiers,
    ...(readFile
      ? {
          readFile: async (name): Promise<PolicyFile> => {
            const content = await readFile(name);
            return { name, text: typeof content === 'string' ? content : new TextDecoder().decode(content) };
          },
        }
      : {}),
  });
}
