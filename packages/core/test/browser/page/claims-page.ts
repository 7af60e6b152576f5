/** Browser side of claims-in-browser.test.ts: claims read from a fetch body and checked with WebCrypto. */
import { ModelSigningError, WebKeyVerifier, modelCardFromReadme, verifyClaims } from '../../../src/browser.js';
import { verifySignatureBytes } from '../../../src/internal.js';

/** Each claim of the claims file at `url`, checked against `rootDigest` with the keys given; streamed from the response body. */
export async function checkClaims(url: string, rootDigest: string, publicKeyPems: string[]) {
  const response = await fetch(url);
  const verifiers = await Promise.all(publicKeyPems.map((publicKey) => WebKeyVerifier.create({ publicKey })));
  const { claims, warnings } = await verifyClaims({ claims: response.body!, rootDigest, verifiers });
  return {
    claims: claims.map((c) => ({ line: c.line, predicateType: c.predicateType, verified: c.verified, failure: c.failure?.code })),
    warnings: warnings.map((w) => [w.code, w.line]),
  };
}

/** The OMS signature in the claims file at `url` that `publicKeyPem` verifies: its line, or the error code. */
export async function signatureLine(url: string, publicKeyPem: string): Promise<number | string> {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  try {
    const verified = await verifySignatureBytes({
      bytes,
      verifier: await WebKeyVerifier.create({ publicKey: publicKeyPem }),
      name: 'claims.jsonl',
    });
    return verified.source.line ?? 'no line';
  } catch (err) {
    return err instanceof ModelSigningError ? err.code : `crash: ${String(err)}`;
  }
}

/** A README's front matter as a CycloneDX model card (YAML and the schema check run in the page), or the error code. */
export async function cardFromReadme(readme: string): Promise<unknown> {
  try {
    const bom = await modelCardFromReadme(readme, { name: 'model' });
    return (bom['metadata'] as { component: unknown }).component;
  } catch (err) {
    return err instanceof ModelSigningError ? err.code : `crash: ${String(err)}`;
  }
}
