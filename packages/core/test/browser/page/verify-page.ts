/**
 * Browser side of verify-in-browser.test.ts: the browser entry's verifiers and
 * fetchVerifiedModel, with JSON-friendly arguments and results.
 */
import {
  ModelSigningError,
  WebCertificateVerifier,
  WebKeyVerifier,
  WebSigstoreVerifier,
  fetchVerifiedModel,
  type ManifestDifference,
  type SignerInfo,
  type Verifier,
} from '../../../dist/browser.js';
import { toHex } from '../../../dist/internal.js';
import { verdictOf, type Verdict } from '../../sigstore-web/cases.js';

/** Which verifier to build in the page. */
export type VerifierSpec =
  | { method: 'key'; publicKeyPem: string }
  | { method: 'certificate'; certificateChainPem: string[]; now?: string }
  | { method: 'sigstore'; identity: string; issuer: string };

function verifierOf(spec: VerifierSpec): Promise<Verifier> {
  switch (spec.method) {
    case 'key':
      return WebKeyVerifier.create({ publicKey: spec.publicKeyPem });
    case 'certificate':
      return WebCertificateVerifier.create({
        certificateChain: spec.certificateChainPem,
        ...(spec.now ? { now: new Date(spec.now) } : {}),
      });
    case 'sigstore':
      return WebSigstoreVerifier.create({ identity: spec.identity, identityProvider: spec.issuer });
  }
}

/** What a page call gave: the files' SHA-256 (of the bytes returned) and the signer, or the refusal. */
export type FetchOutcome =
  | { ok: true; files: Record<string, { sha256: string; size: number }>; signer: SignerInfo; progressEvents: number }
  | { ok: false; code: string; path?: string; message: string; differences: ManifestDifference[] };

/** Everything fetchVerifiedModel needs, as JSON. `abortAfterBytes` aborts once that many file bytes arrived. */
export interface FetchCall {
  baseUrl: string;
  signatureUrl?: string;
  files?: string[];
  verifier: VerifierSpec;
  maxBundleBytes?: number;
  maxFileBytes?: number;
  abortAfterBytes?: number;
}

/** Runs fetchVerifiedModel from the page's origin and reports the outcome. */
export async function fetchModel(call: FetchCall): Promise<FetchOutcome> {
  const controller = new AbortController();
  let progressEvents = 0;
  try {
    const model = await fetchVerifiedModel({
      // Relative, as a page would write them: they resolve against the page's location.
      baseUrl: call.baseUrl,
      ...(call.signatureUrl ? { signatureUrl: call.signatureUrl } : {}),
      ...(call.files ? { files: call.files } : {}),
      ...(call.maxBundleBytes ? { maxBundleBytes: call.maxBundleBytes } : {}),
      ...(call.maxFileBytes ? { maxFileBytes: call.maxFileBytes } : {}),
      verifier: await verifierOf(call.verifier),
      abortSignal: controller.signal,
      onProgress: (p) => {
        progressEvents++;
        if (call.abortAfterBytes !== undefined && p.bytes >= call.abortAfterBytes) controller.abort();
      },
    });
    const files: Record<string, { sha256: string; size: number }> = {};
    for (const [name, bytes] of model.files) {
      files[name] = {
        sha256: toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))),
        size: bytes.length,
      };
    }
    return { ok: true, files, signer: model.signer, progressEvents };
  } catch (err) {
    if (!(err instanceof ModelSigningError)) return { ok: false, code: `crash: ${String(err)}`, message: String(err), differences: [] };
    return {
      ok: false,
      code: err.code,
      ...(err.path === undefined ? {} : { path: err.path }),
      message: err.message,
      differences: err.differences,
    };
  }
}

/** The verdict of the browser's verifier on a bundle text (no model bytes involved); a verifier that cannot be built gives its code. */
export async function bundleVerdict(bundle: string, spec: VerifierSpec): Promise<Verdict> {
  let verifier: Verifier;
  try {
    verifier = await verifierOf(spec);
  } catch (err) {
    return { ok: false, code: err instanceof ModelSigningError ? err.code : 'NOT_A_MODEL_SIGNING_ERROR', message: String(err) };
  }
  return verdictOf(verifier, bundle);
}
