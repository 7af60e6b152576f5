import { createHash, X509Certificate } from 'node:crypto';
import { Command } from 'commander';
import type { SigningMethod, Verifier } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { UsageError, escapeControlCharacters } from '../output.js';
import { addSigstoreVerifyOptions, createSigstoreVerifier, type SigstoreVerifyCliOptions } from './sigstore.js';

/** Options that choose and configure a verifier, for every method. */
export interface VerifierCliOptions extends Partial<SigstoreVerifyCliOptions> {
  publicKey?: string;
  certificateChain?: string[];
  logFingerprints?: boolean;
}

const repeatable = (value: string, previous: string[]) => [...previous, value];

/**
 * Adds the options of one verification method (required ones marked
 * required), or of every method when `method` is undefined.
 */
export function addVerifierOptions(cmd: Command, method?: SigningMethod): Command {
  const need = (m: SigningMethod) => method === undefined || method === m;
  if (need('key')) {
    if (method) cmd.requiredOption('--public-key <path>', "the signer's PEM public key");
    else cmd.option('--public-key <path>', "the signer's PEM public key (key)");
  }
  if (need('certificate')) {
    cmd
      .option('--certificate-chain <path>', 'PEM trust anchors (root and/or intermediate CAs); repeatable; default: the Mozilla roots', repeatable, [])
      .option('--log-fingerprints', 'print the SHA-256 fingerprints of the certificates in the signature', false);
  }
  if (need('sigstore')) addSigstoreVerifyOptions(cmd, method === 'sigstore');
  return cmd;
}

/** Builds the verifier for `method` from parsed options. */
export async function createVerifier(method: SigningMethod, opts: VerifierCliOptions): Promise<Verifier> {
  const core = await loadCore();
  switch (method) {
    case 'key':
      if (opts.publicKey === undefined) throw new UsageError('--public-key is required to verify with the key method');
      return core.KeyVerifier.create({ publicKey: opts.publicKey });
    case 'certificate': {
      const verifier = await core.CertificateVerifier.create({ certificateChain: opts.certificateChain ?? [] });
      return opts.logFingerprints ? withFingerprintLog(verifier) : verifier;
    }
    case 'sigstore':
      if (opts.identityProvider === undefined) throw new UsageError('--identity-provider is required to verify with the sigstore method');
      return createSigstoreVerifier({ useStaging: false, offline: false, ...opts, identityProvider: opts.identityProvider });
  }
}

/** Logs each certificate's SHA-256 fingerprint to stderr before verifying, as the reference's --log-fingerprints does. */
function withFingerprintLog(inner: Verifier): Verifier {
  return {
    method: inner.method,
    verify: async (bundle) => {
      for (const der of bundle.certificates) {
        const cert = new X509Certificate(der);
        process.stderr.write(`${createHash('sha256').update(der).digest('hex')}  ${escapeControlCharacters(cert.subject.replace(/\n/g, ', '))}\n`);
      }
      return inner.verify(bundle);
    },
  };
}
