import type { PolicyError, SignedEntity, VerificationError, Verifier as SigstoreJsVerifier } from '@sigstore/verify';
import type { ParsedBundle } from '../../format/bundle.js';
import { ModelSigningError, type ErrorCode } from '../../errors.js';
import { wrongMethodMessage, type SignerInfo, type Verifier } from '../../format/verifier.js';
import type { PathCertificate } from '../certificate/certificate-path.js';
import { sigstoreLibraries } from './libraries.js';
import { loadTrustConfig, type TufOptions } from './trust-config.js';
import { equal } from './web/bytes.js';
import { dssePrehash } from './web/dsse-prehash.js';
import { verifyHashedRekordV2Body } from './web/hashedrekord-v2-body.js';
import { identityPolicy } from './web/identity-policy.js';
import { checkLogEntryKinds } from './web/log-entry-kind.js';
import { readTlogEntries, verifyProofMatchesCheckpoint } from './web/log-entry.js';

type SignatureContent = SignedEntity['signature'];

/** Options for {@link SigstoreVerifier.create}. */
export interface SigstoreVerifierOptions {
  /** The signer's identity: exact match of the certificate's SAN (email or URI). */
  identity?: string;
  /**
   * Alternative to `identity`: a regular expression the whole SAN must match
   * (anchored), e.g. for CI identities `^https://github\.com/org/repo/\.github/workflows/release\.yml@refs/tags/.*$`.
   */
  identityRegExp?: string;
  /** The OIDC issuer that vouched for the identity: exact match. */
  identityProvider: string;
  /** Verify against the public-good staging instance. */
  useStaging?: boolean;
  /** Path of a ClientTrustConfig JSON file (private instance). */
  trustConfig?: string;
  /** Never contact TUF: use the trusted roots shipped with this package. */
  offline?: boolean;
  /** Where and how long to try TUF when not offline. */
  tuf?: TufOptions;
}

/** Maps sigstore-js failures onto our codes: what the user must fix differs per kind. */
function codeFor(err: VerificationError | PolicyError): ErrorCode {
  switch (err.code) {
    case 'SIGNATURE_ERROR':
    case 'TLOG_BODY_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return 'SIGNATURE_INVALID';
    default:
      return 'CERT_CHAIN_INVALID';
  }
}

/**
 * The bundle's signing certificate, parsed as the shared Rekor v2 body check
 * takes it. PKI.js is loaded here, on the first Rekor v2 bundle, because its
 * import alone costs more than verifying a key-signed model.
 */
async function readLeaf(bundle: ParsedBundle): Promise<PathCertificate> {
  const { parseCertificate } = await import('../certificate/certificate-path.js');
  try {
    return parseCertificate(bundle.certificates[0] ?? new Uint8Array());
  } catch (cause) {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      cause,
      message: `Invalid signature bundle: the certificate cannot be parsed: ${(cause as Error).message}`,
    });
  }
}

/**
 * The envelope as sigstore-js sees it, except that a log entry's digest is
 * compared with the PAE's: the reference logs a DSSE envelope in Rekor v2 as
 * a `hashedrekord` of its PAE, while sigstore-js compares a `hashedrekord`
 * digest with the payload's. Used only when every entry is such an entry.
 */
async function comparingPaeDigest(content: SignatureContent, bundle: ParsedBundle, leaf: PathCertificate): Promise<SignatureContent> {
  const prehash = await dssePrehash(leaf, bundle.payloadType, bundle.payload);
  return {
    signature: content.signature,
    compareSignature: (signature) => content.compareSignature(signature),
    compareDigest: (digest) => prehash !== undefined && equal(digest, prehash.digest),
    verifySignature: (key) => content.verifySignature(key),
  };
}

/**
 * Everything a keyless bundle must pass but the identity policy: the
 * certificate chain, SCT, log entries (of a kind the reference writes),
 * timestamps and the signature, against `verifier`'s trust material. Shared
 * by {@link SigstoreVerifier} and the signer's check before it writes.
 *
 * @returns the signer sigstore-js read from the certificate.
 * @throws {ModelSigningError} `SIGNATURE_INVALID`, `CERT_CHAIN_INVALID` or `BAD_BUNDLE`.
 */
export async function verifyKeylessBundle(
  verifier: SigstoreJsVerifier,
  bundle: ParsedBundle,
  trustRoot: string,
): Promise<ReturnType<SigstoreJsVerifier['verify']>> {
  const {
    bundle: { bundleFromJSON },
    verify: { toSignedEntity, VerificationError, PolicyError },
  } = await sigstoreLibraries();
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    entity = toSignedEntity(bundleFromJSON(bundle.json));
  } catch (cause) {
    throw new ModelSigningError({ code: 'BAD_BUNDLE', cause, message: `Invalid signature bundle: ${(cause as Error).message}` });
  }
  // Decoded as the runtime-neutral verifier decodes them: sigstore-js takes several entries, even one entry twice, where the
  // reference takes exactly one; and for the check sigstore-js leaves out (below).
  const entries = readTlogEntries(bundle.json.verificationMaterial['tlogEntries']);
  // sigstore-js also takes entry kinds the reference refuses (Rekor v2 dsse/0.0.2, intoto); the runtime-neutral verifier refuses them the same way.
  checkLogEntryKinds(entity.tlogEntries.map((e) => e.kindVersion));
  const rekorV2Leaf = entity.tlogEntries.some((e) => e.kindVersion.kind === 'hashedrekord') ? await readLeaf(bundle) : undefined;
  let signer: ReturnType<SigstoreJsVerifier['verify']>;
  try {
    signer = verifier.verify(
      rekorV2Leaf ? { ...entity, signature: await comparingPaeDigest(entity.signature, bundle, rekorV2Leaf) } : entity,
    );
  } catch (cause) {
    if (cause instanceof VerificationError || cause instanceof PolicyError) {
      throw new ModelSigningError({
        code: codeFor(cause),
        cause,
        message: `Sigstore verification failed against the ${trustRoot} trusted root (${cause.code}): ${cause.message}`,
      });
    }
    // sigstore-js converts fields (log index, times) only while verifying; a
    // malformed value surfaces here as a plain SyntaxError or Error.
    throw new ModelSigningError({ code: 'BAD_BUNDLE', cause, message: `Invalid signature bundle: ${(cause as Error).message}` });
  }
  // sigstore-js checked the entry's signature and digest; the reference also checks the verifier it names.
  if (rekorV2Leaf) {
    for (const entry of entity.tlogEntries) {
      await verifyHashedRekordV2Body(
        entry.canonicalizedBody,
        { payloadType: bundle.payloadType, payload: bundle.payload, signature: bundle.signature },
        rekorV2Leaf,
      );
    }
  }
  // sigstore-js proves inclusion against the checkpoint's tree and ignores the proof's own root hash and size; the reference refuses a proof that disagrees.
  for (const entry of entries) verifyProofMatchesCheckpoint(entry);
  return signer;
}

/**
 * Verifies Sigstore keyless bundles: the Fulcio certificate chains to the
 * trusted root, its SCT and the Rekor entry (inclusion proof or promise) and
 * timestamps check out, the certificate was valid when the signature was
 * logged, the signature covers the exact payload, and the certificate's
 * identity and OIDC issuer are the ones required.
 */
export class SigstoreVerifier implements Verifier {
  readonly method = 'sigstore' as const;

  private constructor(
    private readonly verifier: SigstoreJsVerifier,
    private readonly trustRoot: string,
    private readonly matchesIdentity: (san: string) => boolean,
    private readonly expectedIdentity: string,
    private readonly issuer: string,
  ) {}

  /**
   * @throws {ModelSigningError} `INVALID_ARGUMENT` (no or both identity forms,
   *   bad regular expression, bad trust config), `NOT_FOUND` (trust config).
   */
  static async create(options: SigstoreVerifierOptions): Promise<SigstoreVerifier> {
    const { matchesIdentity, expectedIdentity, issuer } = identityPolicy(options);
    const trust = await loadTrustConfig(options);
    const { Verifier: SigstoreJsVerifier, toTrustMaterial } = (await sigstoreLibraries()).verify;
    const verifier = new SigstoreJsVerifier(toTrustMaterial(trust.trustedRoot));
    return new SigstoreVerifier(verifier, trust.source, matchesIdentity, expectedIdentity, issuer);
  }

  async verify(bundle: ParsedBundle): Promise<SignerInfo> {
    if (bundle.method !== 'sigstore') {
      throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, this.method) });
    }
    const signer = await verifyKeylessBundle(this.verifier, bundle, this.trustRoot);
    const san = signer.identity?.subjectAlternativeName ?? '';
    const issuer = signer.identity?.extensions?.issuer ?? '';
    if (!this.matchesIdentity(san) || issuer !== this.issuer) {
      throw new ModelSigningError({
        code: 'IDENTITY_MISMATCH',
        message:
          `The signature is valid but was made by '${san}' (OIDC issuer '${issuer}'), ` +
          `not by identity ${this.expectedIdentity} with issuer '${this.issuer}'; check the identity and identityProvider options`,
      });
    }
    return { method: 'sigstore', identity: san, issuer, trustRoot: this.trustRoot };
  }
}
