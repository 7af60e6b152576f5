// The web page's code. It imports only browser entries (no Node built-in):
// @model-signing/onnx/web for the ONNX model, @model-signing/core/browser
// for the keyless-signed model, and onnxruntime-web to run it.
import * as ort from 'onnxruntime-web';
import { ModelSigningError, WebKeyVerifier, WebSigstoreVerifier, fetchVerifiedModel } from '@model-signing/core/browser';
import { createVerifiedWebSession } from '@model-signing/onnx/web';

// The publisher's public key ships with the app (run.mjs bakes it into this
// bundle), never fetched from the server that serves the model.
/* global PUBLISHER_PUBLIC_KEY */
const publisherKey = PUBLISHER_PUBLIC_KEY;
// Whom the app trusts for the keyless-signed model: the identity and OIDC
// issuer that signed the reference's v1.1.0 Sigstore vector.
const KEYLESS_IDENTITY = 'stefanb@us.ibm.com';
const KEYLESS_ISSUER = 'https://sigstore.verify.ibm.com/oauth2';

// onnxruntime-web loads its WebAssembly from here; one thread, since this
// page is not cross-origin isolated (no SharedArrayBuffer).
ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
ort.env.wasm.numThreads = 1;

function refusal(err) {
  if (!(err instanceof ModelSigningError)) return { ok: false, code: 'UNEXPECTED', message: String(err) };
  return { ok: false, code: err.code, path: err.path, message: err.message };
}

/** Loads the ONNX model at `baseUrl` verified, runs it on X = [[1,1,1],[0,1,0]] and returns Y. */
async function runOnnx(baseUrl) {
  let verifiedBy;
  let keyHint;
  try {
    const session = await createVerifiedWebSession({
      baseUrl: new URL(baseUrl, location.href),
      verifier: await WebKeyVerifier.create({ publicKey: publisherKey }),
      onVerified: ({ signer, modelFile, externalDataFiles }) => {
        keyHint = signer.publicKeyHint;
        verifiedBy = `key ${signer.publicKeyHint.slice(0, 16)}… (${[modelFile, ...externalDataFiles].join(', ')})`;
      },
    });
    try {
      const { Y } = await session.run({ X: new ort.Tensor('float32', Float32Array.from([1, 1, 1, 0, 1, 0]), [2, 3]) });
      return { ok: true, verifiedBy, keyHint, output: Array.from(Y.data) };
    } finally {
      await session.release();
    }
  } catch (err) {
    return refusal(err);
  }
}

/** Fetches the keyless-signed model at `baseUrl` verified against the production Sigstore trusted root. */
async function loadKeyless(baseUrl) {
  try {
    const { files, signer } = await fetchVerifiedModel({
      baseUrl: new URL(baseUrl, location.href),
      verifier: await WebSigstoreVerifier.create({ identity: KEYLESS_IDENTITY, identityProvider: KEYLESS_ISSUER }),
    });
    return { ok: true, verifiedBy: `${signer.identity} (issuer ${signer.issuer}, ${signer.trustRoot})`, files: [...files.keys()] };
  } catch (err) {
    return refusal(err);
  }
}

function show(results) {
  const list = document.getElementById('results');
  list.replaceChildren(
    ...results.map(({ name, outcome }) => {
      const item = document.createElement('li');
      item.className = outcome.ok ? 'ok' : 'refused';
      item.textContent = outcome.ok
        ? `${name}: verified by ${outcome.verifiedBy}; ${outcome.output ? `Y = [${outcome.output.join(', ')}]` : `files ${outcome.files.join(', ')}`}`
        : `${name}: refused (${outcome.code}${outcome.path ? ` on ${outcome.path}` : ''}): ${outcome.message}`;
      return item;
    }),
  );
}

const results = [
  { name: 'ONNX model', outcome: await runOnnx('onnx-model/') },
  { name: 'Tampered copy', outcome: await runOnnx('onnx-tampered/') },
  { name: 'Keyless-signed model', outcome: await loadKeyless('keyless/') },
];
show(results);
// For run.mjs, which checks every outcome.
window.exampleResults = results;
