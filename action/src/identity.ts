import { X509Certificate } from '@sigstore/core';
import type { SerializedBundle } from '@model-signing/core';
import { parseBundle } from '@model-signing/core/internal';

/** Fulcio's OIDC issuer extensions: v2 holds a DER UTF8String, v1 (deprecated) the raw text. */
const FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';

/** Who a keyless signature names: what verifiers pin. */
export interface KeylessIdentity {
  /** The certificate's subject alternative name: for a GitHub workflow, `https://github.com/OWNER/REPO/.github/workflows/FILE@REF`. */
  identity: string;
  /** The OIDC issuer Fulcio recorded: `https://token.actions.githubusercontent.com` for GitHub Actions. */
  issuer: string;
}

/**
 * Reads the identity and issuer from a keyless bundle's leaf certificate, as
 * Sigstore verifiers do (only to report them: the action then verifies the
 * bundle against exactly these, which is what makes them trustworthy).
 */
export function keylessIdentity(bundle: SerializedBundle): KeylessIdentity {
  const parsed = parseBundle(JSON.stringify(bundle));
  const der = parsed.certificates[0];
  if (der === undefined) throw new Error('the keyless signature carries no certificate');
  const leaf = X509Certificate.parse(Buffer.from(der));
  const identity = leaf.subjectAltName;
  const v2 = leaf.extension(FULCIO_ISSUER_V2);
  const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('utf8') : leaf.extension(FULCIO_ISSUER_V1)?.value.toString('utf8');
  if (!identity || !issuer) throw new Error('the signing certificate names no identity or no OIDC issuer');
  return { identity, issuer };
}

/**
 * A regular expression for every ref of the workflow that signed, for
 * verifiers who accept a release tag's run as well as a branch's: the
 * identity up to `@`, escaped, then any ref.
 */
export function workflowIdentityRegExp(identity: string): string | undefined {
  const at = identity.lastIndexOf('@');
  if (!identity.startsWith('https://') || at < 0) return undefined;
  return `^${identity.slice(0, at).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@refs/`;
}
