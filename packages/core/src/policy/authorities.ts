// Runtime-neutral (no `node:*`). A policy's authorities, each made into one
// of the library's existing verifiers: a key authority is a key verifier, a
// certificate authority a certificate verifier with its identity pins, a
// Sigstore authority a Sigstore verifier. The runtime supplies the verifiers
// (Node's read files and may refresh Sigstore roots through TUF; the
// runtime-neutral ones take text), so no signature is checked here.
import type { RE2JS } from 're2js';
import { ModelSigningError } from '../errors.js';
import type { ParsedBundle } from '../format/bundle.js';
import { wrongMethodMessage, type Verifier } from '../format/verifier.js';
import type { CertificateIdentity } from '../methods/certificate/certificate-path.js';
import { compileRe2 } from './re2.js';
import type { AuthorityDocument, PemSource } from './document.js';

/** A file a policy refers to (a key, trust anchors, a trust config), as the runtime read it. */
export interface PolicyFile {
  /** The name as the policy wrote it, or `(inline)`. */
  name: string;
  text: string;
  /** Where the runtime read it from, when it is a file on disk. */
  path?: string;
}

/** What a Sigstore authority asks of the runtime's Sigstore verifier: an exact issuer, and the identity exactly or any. */
export interface SigstoreVerifierParams {
  /** The identity exactly; absent means any identity (the policy then checks its own RE2 expression on the verified one). */
  identity?: string;
  issuer: string;
  instance: 'production' | 'staging';
  trustConfig?: PolicyFile;
}

/**
 * The runtime's verifiers, which a policy's authorities become: Node's
 * (`KeyVerifier`, `CertificateVerifier`, `SigstoreVerifier`) or the
 * runtime-neutral ones (`WebKeyVerifier`, …).
 */
export interface AuthorityVerifiers {
  key(publicKey: PolicyFile): Promise<Verifier>;
  certificate(params: { roots: PolicyFile[]; useSystemRoots: boolean; identity: CertificateIdentity }): Promise<Verifier>;
  sigstore(params: SigstoreVerifierParams): Promise<Verifier>;
}

/** A named party that may sign, ready to check bundles. */
export interface Authority extends Verifier {
  readonly name: string;
  /** What it accepts, for people: `key 39a3…`, `sigstore identity matching /…/ (issuer …)`. */
  readonly description: string;
}

/** Reads the file a policy names; the runtime's (Node: relative to the policy file). */
export type ReadPolicyFile = (name: string) => Promise<PolicyFile>;

async function pemOf(source: PemSource, readFile: ReadPolicyFile): Promise<PolicyFile> {
  return source.pem !== undefined ? { name: '(inline)', text: source.pem } : readFile(source.file);
}

function identityMismatch(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'IDENTITY_MISMATCH', message });
}

/**
 * The OIDC issuer a keyless bundle's certificate names, read before anything
 * is verified: only to choose which exact issuer to verify against, which
 * the verifier then proves.
 */
async function claimedIssuer(bundle: ParsedBundle): Promise<string> {
  const [{ parseCertificate }, { oidcIssuer }] = await Promise.all([
    import('../methods/certificate/certificate-path.js'),
    import('../methods/sigstore/web/verifier.js'),
  ]);
  try {
    return oidcIssuer(parseCertificate(bundle.certificates[0] ?? new Uint8Array()).certificate);
  } catch (cause) {
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      cause,
      message: `Invalid signature bundle: the certificate cannot be parsed: ${(cause as Error).message}`,
    });
  }
}

/**
 * A Sigstore authority: the runtime's Sigstore verifier checks the chain,
 * log, timestamps and signature and compares the identity and issuer it
 * proved with exact values; where the policy gives RE2 expressions instead,
 * the issuer the certificate names is tested first and then required
 * exactly, and the verified identity is tested after.
 */
function sigstoreAuthority(
  name: string,
  spec: NonNullable<AuthorityDocument['sigstore']>,
  identityRe: RE2JS | undefined,
  issuerRe: RE2JS | undefined,
  trustConfig: PolicyFile | undefined,
  verifiers: AuthorityVerifiers,
): Authority & { ready(issuer: string): Promise<void> } {
  const byIssuer = new Map<string, Promise<Verifier>>();
  const verifierFor = (issuer: string): Promise<Verifier> => {
    let verifier = byIssuer.get(issuer);
    if (verifier === undefined) {
      verifier = verifiers.sigstore({
        ...(spec.identity !== undefined ? { identity: spec.identity } : {}),
        issuer,
        instance: spec.instance ?? 'production',
        ...(trustConfig ? { trustConfig } : {}),
      });
      byIssuer.set(issuer, verifier);
    }
    return verifier;
  };
  const identity = spec.identity !== undefined ? `'${spec.identity}'` : `matching /${spec.identityRegExp}/`;
  const ready = async (issuer: string): Promise<void> => {
    await verifierFor(issuer);
  };
  const issuer = spec.issuer !== undefined ? `'${spec.issuer}'` : `matching /${spec.issuerRegExp}/`;
  return {
    name,
    method: 'sigstore',
    ready,
    description: `Sigstore identity ${identity} from issuer ${issuer}${spec.instance === 'staging' ? ' (staging)' : ''}`,
    async verify(bundle) {
      if (bundle.method !== 'sigstore') {
        throw new ModelSigningError({ code: 'WRONG_METHOD', message: wrongMethodMessage(bundle.method, 'sigstore') });
      }
      let chosen = spec.issuer;
      if (chosen === undefined) {
        chosen = await claimedIssuer(bundle);
        if (!issuerRe!.testExact(chosen)) {
          throw identityMismatch(
            `The signature's certificate was issued for OIDC issuer '${chosen}', which does not match /${spec.issuerRegExp}/`,
          );
        }
      }
      const signer = await (await verifierFor(chosen)).verify(bundle);
      if (identityRe && !identityRe.testExact(signer.identity ?? '')) {
        throw identityMismatch(
          `The signature is valid but was made by '${signer.identity ?? ''}', which does not match /${spec.identityRegExp}/`,
        );
      }
      return signer;
    },
  };
}

/**
 * Makes one authority of a policy into a verifier. Key and certificate
 * verifiers are made now (a bad key fails here); Sigstore verifiers on first
 * use (they may fetch trusted roots).
 *
 * @throws {ModelSigningError} what the verifier or the file reader throws
 *   (`BAD_KEY`, `NOT_FOUND`, `INVALID_ARGUMENT`); a ConditionSyntaxError for
 *   a regular expression RE2 refuses.
 */
export async function createAuthority(
  name: string,
  spec: AuthorityDocument,
  verifiers: AuthorityVerifiers,
  readFile: ReadPolicyFile,
): Promise<Authority> {
  if (spec.key !== undefined) {
    const pem = await pemOf(spec.key, readFile);
    const verifier = await verifiers.key(pem);
    const probe = spec.key.file !== undefined ? `key ${spec.key.file}` : 'inline key';
    return { name, method: verifier.method, description: probe, verify: (bundle) => verifier.verify(bundle) };
  }
  if (spec.certificate !== undefined) {
    const c = spec.certificate;
    const roots = await Promise.all((c.roots ?? []).map((r) => pemOf(r, readFile)));
    const identity: CertificateIdentity = {
      ...(c.san !== undefined ? { subjectAlternativeName: c.san } : {}),
      ...(c.subject !== undefined ? { subject: c.subject } : {}),
      ...(c.fingerprint !== undefined ? { fingerprintSha256: c.fingerprint.replace(/^sha256:/, '') } : {}),
    };
    const verifier = await verifiers.certificate({ roots, useSystemRoots: c.useSystemRoots ?? false, identity });
    const pins = [c.subject && `subject '${c.subject}'`, c.san && `SAN '${c.san}'`, c.fingerprint && `fingerprint ${c.fingerprint}`].filter(
      Boolean,
    );
    const anchors = [...(c.roots ?? []).map((r) => r.file ?? '(inline)'), ...(c.useSystemRoots ? ['the system roots'] : [])].join(', ');
    return {
      name,
      method: 'certificate',
      description: `certificates from ${anchors}${pins.length > 0 ? ` with ${pins.join(', ')}` : ''}`,
      verify: (bundle) => verifier.verify(bundle),
    };
  }
  const s = spec.sigstore!;
  const identityRe = s.identityRegExp !== undefined ? compileRe2(s.identityRegExp) : undefined;
  const issuerRe = s.issuerRegExp !== undefined ? compileRe2(s.issuerRegExp) : undefined;
  const trustConfig = s.trustConfig !== undefined ? await readFile(s.trustConfig.file) : undefined;
  const authority = sigstoreAuthority(name, s, identityRe, issuerRe, trustConfig, verifiers);
  // A private instance's trust config is local: read it now, so a broken one is the policy's problem, not a refusal later.
  if (trustConfig && s.issuer !== undefined) await authority.ready(s.issuer);
  return authority;
}

/** Error codes that mean "signed by someone this authority does not trust", as opposed to a broken signature. */
const NOT_BY_AUTHORITY = new Set(['KEY_MISMATCH', 'IDENTITY_MISMATCH', 'CERT_CHAIN_INVALID', 'WRONG_METHOD']);

/** Whether a verification failure means "another signer" rather than "a broken signature". */
export function isOtherSigner(error: ModelSigningError): boolean {
  return NOT_BY_AUTHORITY.has(error.code);
}
