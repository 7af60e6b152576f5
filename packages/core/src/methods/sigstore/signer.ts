import type { Service, SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import type { Bundle } from '@sigstore/bundle';
import type { Witness } from '@sigstore/sign';
import { X509Certificate } from 'node:crypto';
import type { SerializedBundle } from '../../format/bundle.js';
import { ModelSigningError } from '../../errors.js';
import type { SignOptions, SignatureWithMaterial, Signer, WitnessMaterial } from '../../format/signer.js';
import { getIdentityToken, type IdentityTokenOptions } from './identity-token.js';
import { loadTrustConfig, type TufOptions } from './trust-config.js';
import { sigstoreLibraries, type SigstoreLibraries } from './libraries.js';

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
  /** Timeout of each Fulcio, Rekor and TSA request, in ms. Default 30000. */
  serviceTimeoutMs?: number;
}

const MAX_CA_API_VERSION = 1;
// Rekor v1 only: on a v2 log sigstore-js writes a `dsse` 0.0.2 entry, which
// the reference (and so our verifiers) refuse; the reference's v2 form is a
// `hashedrekord` 0.0.2 entry over the PAE. Until the signer writes that form,
// a v2 log would give bundles nobody verifies (docs/sigstore.md, "Rekor v2").
const MAX_TLOG_API_VERSION = 1;
const MAX_TSA_API_VERSION = 1;
const DEFAULT_SERVICE_TIMEOUT_MS = 30_000;

/** The newest currently valid service the client speaks, as the Sigstore client spec selects. */
function selectService(services: Service[], maxApiVersion: number, now = new Date()): Service | undefined {
  return services
    .filter(
      (s) =>
        s.majorApiVersion <= maxApiVersion &&
        (!s.validFor?.start || s.validFor.start <= now) &&
        (!s.validFor?.end || s.validFor.end >= now),
    )
    .sort((a, b) => (b.validFor?.start?.getTime() ?? 0) - (a.validFor?.start?.getTime() ?? 0))[0];
}

/**
 * Sigstore keyless signing: obtains an OIDC identity token, has Fulcio
 * certify an ephemeral key for it and signs the DSSE PAE ({@link sign});
 * then logs the envelope in Rekor and timestamps it ({@link witness}). The
 * result is a v0.3 bundle with the leaf certificate, checked against the
 * instance's trusted root before it is returned.
 */
export class SigstoreSigner implements Signer {
  readonly method = 'sigstore' as const;

  private constructor(
    private readonly options: SigstoreSignerOptions,
    private readonly signingConfig: SigningConfig,
    private readonly trustedRoot: TrustedRoot,
    private readonly trustRoot: string,
  ) {}

  /** @throws {ModelSigningError} `NOT_FOUND` / `INVALID_ARGUMENT` for the trust config; `INVALID_ARGUMENT` when it names no usable Fulcio. */
  static async create(options: SigstoreSignerOptions = {}): Promise<SigstoreSigner> {
    const trust = await loadTrustConfig(options);
    if (!selectService(trust.signingConfig.caUrls, MAX_CA_API_VERSION)) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `The ${trust.source} signing config names no currently valid Fulcio (v1) service`,
      });
    }
    if (!selectService(trust.signingConfig.rekorTlogUrls, MAX_TLOG_API_VERSION)) {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `The ${trust.source} signing config names no currently valid Rekor v1 log; this signer does not write Rekor v2 entries yet`,
      });
    }
    return new SigstoreSigner(options, trust.signingConfig, trust.trustedRoot, trust.source);
  }

  /** Which trust material signing uses (`production (TUF)`, `custom trust config`, …). */
  get trustSource(): string {
    return this.trustRoot;
  }

  /** Gets an identity token, has Fulcio certify an ephemeral key for it, and signs `pae` with that key. */
  async sign(pae: Uint8Array, { abortSignal }: SignOptions = {}): Promise<SignatureWithMaterial> {
    const config = this.signingConfig;
    const ca = selectService(config.caUrls, MAX_CA_API_VERSION)!;
    const oidc = selectService(config.oidcUrls, 1);
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
    return { signature: signed.signature, material: { kind: 'certificate', certificate: new X509Certificate(signed.key.certificate).raw } };
  }

  /**
   * Logs the signed envelope in Rekor as a `dsse` entry (as sigstore-python
   * does) and timestamps it with the TSA when the instance has one; checks the
   * result against the instance's trusted root before returning it.
   */
  async witness(bundle: SerializedBundle): Promise<WitnessMaterial> {
    const config = this.signingConfig;
    const libraries = await sigstoreLibraries();
    const { RekorWitness, TSAWitness } = libraries.sign;
    const fetchOptions = this.fetchOptions();
    const witnesses: Witness[] = [];
    const tlog = selectService(config.rekorTlogUrls, MAX_TLOG_API_VERSION);
    if (tlog)
      witnesses.push(
        new RekorWitness({ rekorBaseURL: tlog.url, majorApiVersion: tlog.majorApiVersion, entryType: 'dsse', ...fetchOptions }),
      );
    const tsa = selectService(config.tsaUrls, MAX_TSA_API_VERSION);
    if (tsa) witnesses.push(new TSAWitness({ tsaBaseURL: tsa.url, ...fetchOptions }));

    const witnessed = libraries.bundle.bundleFromJSON(bundle);
    if (witnessed.verificationMaterial.content.$case !== 'certificate') {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: 'Only bundles signed by a SigstoreSigner (one leaf certificate) can be witnessed',
      });
    }
    const certificate = new X509Certificate(witnessed.verificationMaterial.content.certificate.rawBytes).toString();
    let testimonies: Awaited<ReturnType<Witness['testify']>>[];
    try {
      testimonies = await Promise.all(witnesses.map((w) => w.testify(witnessed.content, certificate)));
    } catch (cause) {
      throw serviceError(cause, this.trustRoot);
    }
    witnessed.verificationMaterial.tlogEntries = testimonies.flatMap((t) => t.tlogEntries ?? []);
    witnessed.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: testimonies.flatMap((t) => t.rfc3161Timestamps ?? []) };
    this.checkAgainstTrustedRoot(witnessed, libraries);
    const material = withExplicitDefaults(libraries.bundle.bundleToJSON(witnessed) as unknown as SerializedBundle).verificationMaterial;
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

  /** Catches a trust config whose root does not match its services before a useless signature is written. */
  private checkAgainstTrustedRoot(bundle: Bundle, libraries: SigstoreLibraries): void {
    const { Verifier: SigstoreJsVerifier, VerificationError, toSignedEntity, toTrustMaterial } = libraries.verify;
    try {
      new SigstoreJsVerifier(toTrustMaterial(this.trustedRoot)).verify(toSignedEntity(bundle));
    } catch (cause) {
      if (!(cause instanceof VerificationError)) throw cause;
      throw new ModelSigningError({
        code: 'CERT_CHAIN_INVALID',
        cause,
        message: `The signature from the Sigstore services does not verify against the ${this.trustRoot} trusted root (${cause.code}: ${cause.message}); the trusted root and the signing config do not belong to the same instance`,
      });
    }
  }
}

/**
 * Protobuf JSON leaves out zero values, but sigstore-python's bundle model
 * requires `tlogEntries` and each inclusion proof's `logIndex` and `hashes`
 * (zero and empty for a log's first entry); write them out so the reference
 * can load every bundle we produce.
 */
function withExplicitDefaults(json: SerializedBundle): SerializedBundle {
  const material = json.verificationMaterial;
  material['tlogEntries'] ??= [];
  for (const entry of material['tlogEntries'] as Array<{ inclusionProof?: { logIndex?: string; hashes?: string[] } }>) {
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
  const tokenProblem =
    err.code === 'IDENTITY_TOKEN_PARSE_ERROR' || err.code === 'IDENTITY_TOKEN_READ_ERROR' || /\b(401|403)\b/.test(detail);
  return new ModelSigningError({
    code: tokenProblem ? 'IDENTITY_TOKEN_ERROR' : 'NETWORK_ERROR',
    cause,
    message: `Sigstore signing (${trustRoot}) failed${err.code ? ` (${err.code})` : ''}: ${detail}`,
  });
}
