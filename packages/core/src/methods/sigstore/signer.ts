import type { Envelope } from '@sigstore/bundle';
import type { SignatureBundle, Witness } from '@sigstore/sign';
import type { Verifier as SigstoreJsVerifier } from '@sigstore/verify';
import { X509Certificate, verify } from 'node:crypto';
import { parseBundle, serializeBundle, type SerializedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import type { SignOptions, SignatureWithMaterial, Signer, WitnessMaterial } from '../../format/signer.js';
import { getIdentityToken, type IdentityTokenOptions } from './identity-token.js';
import { loadTrustConfig, selectSigningServices, type SigningServices, type TufOptions } from './trust-config.js';
import { sigstoreLibraries, type SigstoreLibraries } from './libraries.js';
import { verifyKeylessBundle } from './verifier.js';
import { dssePrehash } from './web/dsse-prehash.js';

/** Options for {@link SigstoreSigner.create}. */
export interface SigstoreSignerOptions {
  /** An explicit OIDC identity token; wins over every other source. */
  identityToken?: string;
  /** Use CI credentials when present: `SIGSTORE_ID_TOKEN`, then GitHub Actions OIDC. */
  useAmbientCredentials?: boolean;
  /** Interactive flow: show a URL and read back a code instead of using a loopback redirect. */
  oauthForceOob?: boolean;
  /** OAuth client id; also the audience requested from CI. Default `sigstore`. */
  clientId?: string;
  /** OAuth client secret. Default empty (public client). */
  clientSecret?: string;
  /** Sign with the public-good staging instance. */
  useStaging?: boolean;
  /** Path of a ClientTrustConfig JSON file (trusted root + signing config) for a private instance. */
  trustConfig?: string;
  /** Used for identity-token requests (OIDC discovery, token exchange, GitHub Actions). Fulcio, Rekor and the TSA are reached through sigstore-js's HTTP client. */
  fetch?: typeof fetch;
  /** Interactive flow: tell the user where to sign in (e.g. print it and open a browser). */
  onAuthorizationUrl?: (url: string) => void;
  /** Interactive out-of-band flow: ask the user for the code. */
  readOobCode?: () => Promise<string>;
  /** Environment for ambient credentials. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where and how long to try TUF for fresh service URLs and roots. */
  tuf?: TufOptions;
  /** Timeout of each Fulcio, Rekor and TSA request, in ms. Default 30000; at least 20000 for a Rekor v2 log, which answers once a checkpoint covers the entry. */
  serviceTimeoutMs?: number;
}

const DEFAULT_SERVICE_TIMEOUT_MS = 30_000;
// A Rekor v2 log answers once a checkpoint covers the entry; its client guide asks for at least 20 s.
const MIN_REKOR_V2_TIMEOUT_MS = 20_000;

/**
 * Sigstore keyless signing: obtains an OIDC identity token, has Fulcio
 * certify an ephemeral key for it and signs the DSSE PAE ({@link sign});
 * then logs the signature in Rekor and timestamps it ({@link witness}). The
 * result is a v0.3 bundle with the leaf certificate, checked against the
 * instance's trusted root before it is returned. The services are the
 * signing config's, chosen as Sigstore clients choose them
 * (`selectSigningServices`): on a Rekor v2 log the entry is the
 * reference's `hashedrekord` 0.0.2 over the PAE, on a v1 log a `dsse` entry.
 */
export class SigstoreSigner implements Signer {
  readonly method = 'sigstore' as const;

  private constructor(
    private readonly options: SigstoreSignerOptions,
    private readonly services: SigningServices,
    private readonly verifier: SigstoreJsVerifier,
    private readonly trustRoot: string,
  ) {}

  /**
   * @throws {ModelSigningError} `NOT_FOUND` / `INVALID_ARGUMENT` for the trust
   *   config; `INVALID_ARGUMENT` when its signing config names no usable
   *   Fulcio or Rekor log, or a Rekor v2 log and no timestamp authority.
   */
  static async create(options: SigstoreSignerOptions = {}): Promise<SigstoreSigner> {
    const trust = await loadTrustConfig(options);
    const services = await selectSigningServices(trust.signingConfig, trust.source);
    const { Verifier: SigstoreJsVerifier, toTrustMaterial } = (await sigstoreLibraries()).verify;
    return new SigstoreSigner(options, services, new SigstoreJsVerifier(toTrustMaterial(trust.trustedRoot)), trust.source);
  }

  /** Which trust material signing uses (`production (TUF)`, `custom trust config`, …). */
  get trustSource(): string {
    return this.trustRoot;
  }

  /** Gets an identity token, has Fulcio certify an ephemeral key for it, and signs `pae` with that key. */
  async sign(pae: Uint8Array, { abortSignal }: SignOptions = {}): Promise<SignatureWithMaterial> {
    const { ca, oidc } = this.services;
    const tokenOptions: IdentityTokenOptions = {
      ...this.options,
      issuerUrl: oidc?.url ?? '',
      ...(abortSignal ? { abortSignal } : {}),
    };
    if (!oidc && !this.options.identityToken && !this.options.useAmbientCredentials) {
      throw new ModelSigningError({
        code: 'IDENTITY_TOKEN_ERROR',
        message: `The ${this.trustRoot} signing config names no OIDC issuer; pass an identity token`,
      });
    }
    const token = await getIdentityToken(tokenOptions);
    const { FulcioSigner } = (await sigstoreLibraries()).sign;
    const fulcio = new FulcioSigner({ fulcioBaseURL: ca.url, identityProvider: { getToken: async () => token }, ...this.fetchOptions() });
    let signed: Awaited<ReturnType<InstanceType<typeof FulcioSigner>['sign']>>;
    try {
      signed = await fulcio.sign(Buffer.from(pae));
    } catch (cause) {
      throw serviceError(cause, this.trustRoot);
    }
    if (signed.key.$case !== 'x509Certificate') {
      throw new ModelSigningError({ code: 'NETWORK_ERROR', message: `Fulcio (${ca.url}) returned no certificate` });
    }
    const certificate = new X509Certificate(signed.key.certificate);
    // sigstore-js takes Fulcio's first certificate as it comes; one for another key would be logged and timestamped before anyone noticed.
    if (!verify('sha256', pae, certificate.publicKey, signed.signature)) {
      throw new ModelSigningError({
        code: 'SIGNATURE_INVALID',
        message: `Fulcio (${ca.url}) returned a certificate for another key than the one that signed (subject '${certificate.subjectAltName ?? ''}'); nothing was logged or written`,
      });
    }
    return { signature: signed.signature, material: { kind: 'certificate', certificate: certificate.raw } };
  }

  /**
   * Logs the signature in the selected Rekor log, as sigstore-python does (a
   * `dsse` entry on v1; on v2 a `hashedrekord` entry of the PAE's hash), and
   * timestamps it with each selected TSA; checks the result against the
   * instance's trusted root before returning it, so that a log or TSA answer
   * for something else is refused before anything is written.
   */
  async witness(bundle: SerializedBundle): Promise<WitnessMaterial> {
    const { tlog, tsas } = this.services;
    const libraries = await sigstoreLibraries();
    const { RekorWitness, TSAWitness } = libraries.sign;
    const witnessed = libraries.bundle.bundleFromJSON(bundle);
    if (witnessed.verificationMaterial.content.$case !== 'certificate' || witnessed.content.$case !== 'dsseEnvelope') {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'Only bundles signed by a SigstoreSigner (a DSSE envelope and one leaf certificate) can be witnessed',
      });
    }
    const leaf = witnessed.verificationMaterial.content.certificate.rawBytes;
    const { timeout, retry } = this.fetchOptions();
    const rekor = new RekorWitness({
      rekorBaseURL: tlog.url,
      majorApiVersion: tlog.majorApiVersion,
      entryType: 'dsse',
      timeout: tlog.majorApiVersion === 2 ? Math.max(timeout, MIN_REKOR_V2_TIMEOUT_MS) : timeout,
      retry,
    });
    const logged = tlog.majorApiVersion === 2 ? await rekorV2Content(witnessed.content.dsseEnvelope, leaf, libraries) : witnessed.content;
    const certificate = new X509Certificate(leaf).toString();
    let testimonies: Awaited<ReturnType<Witness['testify']>>[];
    try {
      testimonies = await Promise.all([
        rekor.testify(logged, certificate),
        ...tsas.map((tsa) => new TSAWitness({ tsaBaseURL: tsa.url, timeout, retry }).testify(witnessed.content)),
      ]);
    } catch (cause) {
      throw serviceError(cause, this.trustRoot);
    }
    witnessed.verificationMaterial.tlogEntries = testimonies.flatMap((t) => t.tlogEntries ?? []);
    witnessed.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: testimonies.flatMap((t) => t.rfc3161Timestamps ?? []) };
    const json = withExplicitDefaults(libraries.bundle.bundleToJSON(witnessed) as unknown as SerializedBundle);
    await this.checkAgainstTrustedRoot(json);
    const material = json.verificationMaterial;
    return {
      tlogEntries: material['tlogEntries'] as unknown[],
      ...(material['timestampVerificationData']
        ? { timestampVerificationData: material['timestampVerificationData'] as Record<string, unknown> }
        : {}),
    };
  }

  private fetchOptions() {
    return { timeout: this.options.serviceTimeoutMs ?? DEFAULT_SERVICE_TIMEOUT_MS, retry: { retries: 2 } };
  }

  /**
   * Verifies the finished bundle as `verify sigstore` will, all but the
   * identity: services that answer for other bytes, a checkpoint or proof
   * the root's log key does not vouch for, or a trusted root of another
   * instance than the signing config's, fail here and nothing is written.
   */
  private async checkAgainstTrustedRoot(bundle: SerializedBundle): Promise<void> {
    try {
      await verifyKeylessBundle(this.verifier, parseBundle(serializeBundle(bundle)), this.trustRoot);
    } catch (cause) {
      if (!(cause instanceof ModelSigningError)) throw cause;
      throw new ModelSigningError({
        code: cause.code,
        cause,
        message: `The answers of the Sigstore services (log ${this.services.tlog.url}; ${this.services.tsas.map((t) => `timestamp authority ${t.url}`).join(', ') || 'no timestamp authority'}) do not verify against the ${this.trustRoot} trusted root, so no signature was written: ${cause.message}. (A trusted root of another instance than the signing config's services fails here too.)`,
      });
    }
  }
}

/**
 * What the reference logs on Rekor v2 for a DSSE envelope (sigstore-python's
 * `_build_dsse_request`): a `hashedrekord` whose digest is the hash of the
 * envelope's PAE and whose signature is the envelope's, verified by the
 * signing certificate. Given that digest and signature as a message
 * signature, sigstore-js's Rekor v2 client sends exactly this request; it
 * names P-256 key details, which the Fulcio signer's ephemeral key has.
 * The digest comes from the same function the verifiers compare it with.
 */
async function rekorV2Content(
  envelope: Envelope,
  leaf: Uint8Array,
  { protobuf: { HashAlgorithm } }: SigstoreLibraries,
): Promise<SignatureBundle> {
  const { parseCertificate } = await import('../certificate/certificate-path.js');
  const prehash = await dssePrehash(parseCertificate(leaf), envelope.payloadType, envelope.payload);
  if (prehash?.keyDetails !== 'PKIX_ECDSA_P256_SHA_256') {
    throw new ModelSigningError({
      code: 'BAD_KEY',
      message: 'Rekor v2 entries are written for ECDSA P-256 signing keys only, the keys Fulcio certifies here',
    });
  }
  return {
    $case: 'messageSignature',
    messageSignature: {
      messageDigest: { algorithm: HashAlgorithm.SHA2_256, digest: Buffer.from(prehash.digest) },
      signature: envelope.signatures[0].sig,
    },
  };
}

/**
 * Protobuf JSON leaves out zero values, but sigstore-python's bundle model
 * requires `tlogEntries` and each entry's and inclusion proof's `logIndex`
 * and the proof's `hashes` (zero and empty for a log's first entry); write
 * them out so the reference can load every bundle we produce.
 */
function withExplicitDefaults(json: SerializedBundle): SerializedBundle {
  const material = json.verificationMaterial;
  material['tlogEntries'] ??= [];
  for (const entry of material['tlogEntries'] as Array<{ logIndex?: string; inclusionProof?: { logIndex?: string; hashes?: string[] } }>) {
    entry.logIndex ??= '0';
    if (!entry.inclusionProof) continue;
    entry.inclusionProof.logIndex ??= '0';
    entry.inclusionProof.hashes ??= [];
  }
  return json;
}

/** Names the failing service and distinguishes a refused token from an unreachable service. */
function serviceError(cause: unknown, trustRoot: string): ModelSigningError {
  if (cause instanceof ModelSigningError) return cause;
  const err = cause as Error & { code?: string; cause?: unknown };
  const detail = err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  // Fulcio answers a token it cannot verify with 400 "There was an error processing the identity token".
  const tokenProblem =
    err.code === 'IDENTITY_TOKEN_PARSE_ERROR' ||
    err.code === 'IDENTITY_TOKEN_READ_ERROR' ||
    /\b(401|403)\b/.test(detail) ||
    (err.code === 'CA_CREATE_SIGNING_CERTIFICATE_ERROR' && /identity token/i.test(detail));
  return new ModelSigningError({
    code: tokenProblem ? 'IDENTITY_TOKEN_ERROR' : 'NETWORK_ERROR',
    cause,
    message: `Sigstore signing (${trustRoot}) failed${err.code ? ` (${err.code})` : ''}: ${detail}`,
  });
}
