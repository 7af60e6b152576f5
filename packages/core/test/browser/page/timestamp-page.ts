/**
 * Browser side of timestamps-in-browser.test.ts: the browser entry's key and
 * certificate verifiers with RFC 3161 timestamps, JSON in and out.
 */
import { WebCertificateVerifier, WebKeyVerifier, type Verifier } from '../../../dist/browser.js';
import { verdictOf, type Verdict } from '../../sigstore-web/cases.js';

/** Which verifier to build in the page; `tsaCertificateChainPem` as the option takes it. */
export type TimestampVerifierSpec =
  | { method: 'key'; publicKeyPem: string; tsaCertificateChainPem?: string[] }
  | { method: 'certificate'; certificateChainPem: string[]; tsaCertificateChainPem?: string[] };

function verifierOf(spec: TimestampVerifierSpec): Promise<Verifier> {
  const tsa = spec.tsaCertificateChainPem ? { tsaCertificateChain: spec.tsaCertificateChainPem } : {};
  return spec.method === 'key'
    ? WebKeyVerifier.create({ publicKey: spec.publicKeyPem, ...tsa })
    : WebCertificateVerifier.create({ certificateChain: spec.certificateChainPem, ...tsa });
}

/** The verdict on a bundle (JSON text), as Node's verifyBundle gives it. */
export async function timestampVerdict(bundle: string, spec: TimestampVerifierSpec): Promise<Verdict> {
  return verdictOf(await verifierOf(spec), bundle);
}
