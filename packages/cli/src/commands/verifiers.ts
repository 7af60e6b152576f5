import { createHash, X509Certificate } from 'node:crypto';
import { Command } from 'commander';
import type { SigningMethod, Verifier } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { UsageError, escapeControlCharacters } from '../output.js';
import { addSigstoreVerifyOptions, createSigstoreVerifier, type SigstoreVerifyCliOptions } from './sigstore.js';

/** Options that choose and configure a verifier, for every method. */
export interface VerifierCliOptions extends Partial<SigstoreVerifyCliOptions> {
  publicKey?: string;
  tsaCertificateChain?: string[];
  certificateChain?: string[];
  useSystemRoots?: boolean;
  certificateIdentity?: string;
  certificateSubject?: string;
  certificateFingerprint?: string;
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
      .option(
        '--certificate-chain <path>',
        'PEM trust anchors (root and/or intermediate CAs); repeatable; this or --use-system-roots is required',
        repeatable,
        [],
      )
      .option(
        '--use-system-roots',
        "also trust the Mozilla roots bundled with Node (the reference's certifi default); pin the signer with the options below",
        false,
      )
      .option('--certificate-identity <name>', 'require this subject alternative name (email, DNS name or URI) in the signing certificate')
      .option(
        '--certificate-subject <dn>',
        "require this signing-certificate subject, exactly as printed (e.g. 'O=Example, CN=Release Signer')",
      )
      .option('--certificate-fingerprint <sha256>', 'require this SHA-256 fingerprint of the signing certificate (hex; colons optional)')
      .option('--log-fingerprints', 'print the SHA-256 fingerprints of the certificates in the signature', false);
  }
  if (need('key') || need('certificate')) {
    cmd.option(
      '--tsa-certificate-chain <path>',
      `PEM certificates of the RFC 3161 timestamp authority to trust (its chain, as its …/api/v1/timestamp/certchain serves it, or its root and intermediates); repeatable. Every timestamp in the signature must then verify, and the signing certificate is checked at the stamped time instead of now; without it, timestamps are shown but not used${method ? '' : ' (key, certificate)'}`,
      repeatable,
      [],
    );
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
      return core.KeyVerifier.create({ publicKey: opts.publicKey, ...tsaOf(opts) });
    case 'certificate': {
      const certificateChain = opts.certificateChain ?? [];
      if (certificateChain.length === 0 && opts.useSystemRoots !== true) {
        throw new UsageError(
          'verify certificate needs a trust anchor: pass the issuing root or CA with --certificate-chain, or opt in to the public roots with --use-system-roots (and pin the signer with --certificate-identity, --certificate-subject or --certificate-fingerprint)',
        );
      }
      const identity = {
        ...(opts.certificateIdentity !== undefined ? { subjectAlternativeName: opts.certificateIdentity } : {}),
        ...(opts.certificateSubject !== undefined ? { subject: opts.certificateSubject } : {}),
        ...(opts.certificateFingerprint !== undefined ? { fingerprintSha256: opts.certificateFingerprint } : {}),
      };
      const verifier = await core.CertificateVerifier.create({
        certificateChain,
        useSystemRoots: opts.useSystemRoots === true,
        identity,
        ...tsaOf(opts),
      });
      return opts.logFingerprints ? withFingerprintLog(verifier) : verifier;
    }
    case 'sigstore':
      if (opts.identityProvider === undefined) throw new UsageError('--identity-provider is required to verify with the sigstore method');
      return createSigstoreVerifier({ useStaging: false, offline: false, ...opts, identityProvider: opts.identityProvider });
  }
}

/** `tsaCertificateChain` when --tsa-certificate-chain was given. */
function tsaOf(opts: VerifierCliOptions): { tsaCertificateChain?: string[] } {
  return opts.tsaCertificateChain?.length ? { tsaCertificateChain: opts.tsaCertificateChain } : {};
}

/** Logs each certificate's SHA-256 fingerprint to stderr before verifying, as the reference's --log-fingerprints does. */
function withFingerprintLog(inner: Verifier): Verifier {
  return {
    method: inner.method,
    verify: async (bundle) => {
      for (const [index, der] of bundle.certificates.entries()) {
        let subject: string;
        try {
          subject = escapeControlCharacters(new X509Certificate(der).subject.replace(/\n/g, ', '));
        } catch (cause) {
          const { ModelSigningError } = await loadCore();
          throw new ModelSigningError({
            code: 'BAD_BUNDLE',
            cause,
            message: `Invalid signature bundle: certificate ${index} cannot be parsed: ${(cause as Error).message}`,
          });
        }
        process.stderr.write(`${createHash('sha256').update(der).digest('hex')}  ${subject}\n`);
      }
      return inner.verify(bundle);
    },
  };
}
