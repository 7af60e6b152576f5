/**
 * Browser side of sigstore-in-browser.test.ts: WebSigstoreVerifier and
 * fetchVerifiedModel from the browser entry, with JSON arguments and results.
 */
import { ModelSigningError, WebSigstoreVerifier, fetchVerifiedModel, type SignerInfo, type Verifier } from '../../../dist/browser.js';
import { toHex } from '../../../dist/internal.js';
import { verdictOf, type SigstoreOptions, type Verdict } from '../../sigstore-web/cases.js';

async function verifierOf(options: SigstoreOptions): Promise<Verifier | Verdict> {
  try {
    return await WebSigstoreVerifier.create(options);
  } catch (err) {
    return { ok: false, code: err instanceof ModelSigningError ? err.code : 'NOT_A_MODEL_SIGNING_ERROR', message: String(err) };
  }
}

/** The page's verdict on a bundle text; a verifier that cannot be built gives its code. */
export async function sigstoreVerdict(bundle: string, options: SigstoreOptions): Promise<Verdict> {
  const verifier = await verifierOf(options);
  return 'verify' in verifier ? verdictOf(verifier, bundle) : verifier;
}

/** What fetchVerifiedModel gave: each file's SHA-256 and the signer, or the refusal and the file it names. */
export type SigstoreFetchOutcome =
  { ok: true; files: Record<string, string>; signer: SignerInfo } | { ok: false; code: string; path?: string; message: string };

/** Loads the model at `baseUrl` (relative to the page) with a keyless verifier built from `options`. */
export async function fetchSigstoreModel(baseUrl: string, options: SigstoreOptions): Promise<SigstoreFetchOutcome> {
  const verifier = await verifierOf(options);
  if (!('verify' in verifier)) return verifier.ok ? { ok: false, code: 'NO_VERIFIER', message: '' } : verifier;
  try {
    const model = await fetchVerifiedModel({ baseUrl: new URL(baseUrl, location.href), verifier });
    const files: Record<string, string> = {};
    for (const [name, bytes] of model.files)
      files[name] = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
    return { ok: true, files, signer: model.signer };
  } catch (err) {
    if (!(err instanceof ModelSigningError)) return { ok: false, code: 'NOT_A_MODEL_SIGNING_ERROR', message: String(err) };
    return { ok: false, code: err.code, ...(err.path === undefined ? {} : { path: err.path }), message: err.message };
  }
}
