#!/usr/bin/env node
// Sign a model stored in an OCI registry from its manifest (no layer is
// downloaded), store the signature in the registry beside it, pull it
// verified, and watch a tampered push be refused before a layer byte moves.
//
//   node examples/oci/sign-push-pull.mjs     # go-containerregistry's registry on 127.0.0.1, pushed with ORAS
//   node examples/oci/sign-push-pull.mjs --reference oci://ghcr.io/you/model:v1
//                                            # a model already in a real registry (credentials from ~/.docker/config.json)
//
// Needs the workspace built (pnpm install && pnpm build) and, for the
// loopback registry, the Go tools (scripts/setup-go-tools.sh).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KeySigner, KeyVerifier, isModelSigningError } from '@model-signing/core';
import { pullVerifiedModel, signOciManifest } from '@model-signing/oci';

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'oci-example-'));
const referenceArg = process.argv.indexOf('--reference');
let reference = referenceArg > 0 ? process.argv[referenceArg + 1] : undefined;
let registry;
let oras;
let connection = {}; // a real registry: HTTPS, credentials from the Docker config

try {
  if (reference === undefined) {
    // The loopback registry and the ORAS CLI the package's tests use.
    const fixture = await import('../../test-fixtures/oci-registry.mjs');
    oras = fixture.oras;
    registry = await fixture.startRegistry({ dir: work });
    reference = `oci://${registry.host}/demo/tiny:v1`;
    connection = { plainHttp: true, dockerConfig: false };
    // 1. A model pushed as ORAS pushes one: one layer per file, titled with its name.
    await pushModel({ 'config.json': JSON.stringify({ hidden_size: 16 }), 'model.safetensors': randomBytes(1024 * 1024) });
  }

  // 2. Sign from the manifest: the layers' digests are the files' digests, so nothing is downloaded.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = await KeySigner.create({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  const verifier = await KeyVerifier.create({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) });
  const signed = await signOciManifest({ reference, signer, ...connection });
  console.log(`signed ${signed.reference}: ${signed.files.map((f) => f.name).join(', ')}`);
  console.log(`signature stored in the registry as ${signed.pushed.digest}`);

  // 3. Pull verified: the signature found in the registry, every layer hashed as it arrives.
  const pulled = await pullVerifiedModel({ reference, verifier, outputDir: path.join(work, 'pulled'), ...connection });
  console.log(`pulled ${pulled.files.length} verified files into ${pulled.outputDir} (signature: ${pulled.signaturePath})`);

  if (registry) {
    // 4. Someone pushes other weights under the same tag. The registry holds no signature for that manifest
    //    (NOT_FOUND); checked against the publisher's signature, it is refused before a layer byte moves.
    await pushModel({ 'config.json': JSON.stringify({ hidden_size: 16 }), 'model.safetensors': randomBytes(1024 * 1024) });
    const signaturePath = path.join(work, 'model.sig');
    await fs.writeFile(signaturePath, JSON.stringify(signed.bundle));
    const refused = await pullVerifiedModel({
      reference,
      verifier,
      signaturePath,
      outputDir: path.join(work, 'tampered'),
      ...connection,
    }).then(
      () => undefined,
      (err) => err,
    );
    if (!isModelSigningError(refused, 'DIGEST_MISMATCH')) throw refused ?? new Error('the tampered model was accepted');
    if (await fs.stat(path.join(work, 'tampered')).catch(() => undefined)) throw new Error('the refused pull left files behind');
    console.log(`tampered push refused: ${refused.code} (${refused.differences.map((d) => d.name).join(', ')}); nothing was written`);
  }
} finally {
  await registry?.stop();
  await fs.rm(work, { recursive: true, force: true });
}

/** Pushes `files` to the loopback registry with the ORAS CLI, as `oras push … <files>`. */
async function pushModel(files) {
  const dir = await fs.mkdtemp(path.join(work, 'model-'));
  for (const [name, data] of Object.entries(files)) await fs.writeFile(path.join(dir, name), data);
  await oras(['push', '--plain-http', reference.slice('oci://'.length), ...Object.keys(files)], { cwd: dir });
}
