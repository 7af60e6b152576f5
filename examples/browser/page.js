// The web page's code: everything here comes from the browser entry, which
// has no Node built-in, so any bundler can take it for a page or a worker.
import { WebKeyVerifier, fetchVerifiedModel, ModelSigningError } from '@model-signing/core/browser';

/**
 * Loads the model at `baseUrl` (its files and `model.sig`) verified against
 * the publisher's public key; returns what a page would show.
 */
export async function load(baseUrl, publicKeyPem) {
  try {
    const { files, signer } = await fetchVerifiedModel({
      baseUrl: new URL(baseUrl, location.href),
      verifier: await WebKeyVerifier.create({ publicKey: publicKeyPem }),
    });
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    return { ok: true, keyHint: signer.publicKeyHint, files: [...files].map(([name, bytes]) => `${name} (${bytes.length} bytes)`), architecture: config.architectures?.[0] };
  } catch (err) {
    if (err instanceof ModelSigningError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
