import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySigner, type ManifestResource } from '../dist/index.js';
import { serializeBundleParts } from '../dist/format/bundle.js';
import { signManifest } from '../dist/internal-node.js';
import { cleanupTempDirs, ecKeyPair, tempDir } from './helpers.js';

// The signature of a dataset is hundreds of megabytes: verifying it must not
// hold it several times over (its bytes, the bundle's text, the base64
// payload, the statement's text and a JSON object per resource). Run in a
// child whose JavaScript heap is capped: running out would crash the child,
// so passing proves the bound. Holding the bundle's text and its payload as
// strings at once (about twice the signature) exceeds the cap; so does the
// statement's text beside its million-object parse.

const DIST = path.resolve(import.meta.dirname, '../dist/index.js');
const COUNT = 250_000;
/** The heap the child gets: under one and a half times the signature, where holding its text and payload as strings took twice. */
const HEAP_MB = 80;

let signaturePath: string;
let publicKey: string;
let signatureBytes: number;

beforeAll(async () => {
  const keys = ecKeyPair();
  publicKey = keys.publicKey;
  const resources: ManifestResource[] = Array.from({ length: COUNT }, (_, i) => ({
    name: `train/n${String(i % 1000).padStart(8, '0')}/img-${String(i).padStart(6, '0')}.jpg`,
    algorithm: 'sha256',
    digest: createHash('sha256').update(String(i)).digest('hex'),
  }));
  const bundle = await signManifest({
    manifest: {
      modelName: 'dataset',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources,
    },
    signer: await KeySigner.create({ privateKey: keys.privateKey }),
  });
  signaturePath = path.join(await tempDir('oms-sig-memory-'), 'model.sig');
  fs.writeFileSync(signaturePath, serializeBundleParts(bundle).join(''));
  signatureBytes = fs.statSync(signaturePath).size;
}, 120_000);

afterAll(cleanupTempDirs);

/** Verifies the signature through the session, in a child with its heap capped at `heapMB`; what it printed last, as JSON. */
function verifyBounded(heapMB: number): { status: number | null; stderr: string; outcome?: Record<string, unknown> } {
  const script = `
    import fs from 'node:fs';
    import * as core from ${JSON.stringify(DIST)};
    const bytes = fs.readFileSync(${JSON.stringify(signaturePath)});
    const source = {
      location: 'memory:dataset',
      signatureLocation: 'memory:dataset/model.sig',
      // In 1 MiB chunks, as a file or a response arrives.
      async signature() {
        const chunks = [];
        for (let at = 0; at < bytes.length; at += 1 << 20) chunks.push(new Uint8Array(bytes.subarray(at, at + (1 << 20))));
        return { size: bytes.length, chunks: (async function* () { yield* chunks.splice(0); })() };
      },
      async open() { return undefined; },
    };
    const verifier = await core.KeyVerifier.create({ publicKey: ${JSON.stringify(publicKey)} });
    const session = await core.openVerifiedSession({ source, verifier, maxBundleBytes: 512 * 1024 * 1024 });
    const r = session.manifest.resources;
    console.log(JSON.stringify({ signed: session.signedFiles.length, first: r[0].name, last: r[r.length - 1].name, kept: session.signature !== undefined }));
  `;
  const file = path.join(path.dirname(signaturePath), 'verify.mjs');
  fs.writeFileSync(file, script);
  const result = spawnSync(process.execPath, [`--max-old-space-size=${heapMB}`, file], { encoding: 'utf8', timeout: 240_000 });
  const last = result.stdout.trim().split('\n').pop();
  return {
    status: result.status,
    stderr: result.stderr,
    ...(result.status === 0 && last ? { outcome: JSON.parse(last) as Record<string, unknown> } : {}),
  };
}

describe('verifying the signature of a dataset (250,000 resources)', () => {
  it(`parses and checks it within a ${HEAP_MB} MB heap, and the session keeps no copy of its bytes`, () => {
    // The cap is well under twice the signature: what holding its text and its payload as strings took.
    expect(signatureBytes * 2).toBeGreaterThan(HEAP_MB * 1024 * 1024 * 1.25);
    const { status, stderr, outcome } = verifyBounded(HEAP_MB);
    expect(status, stderr).toBe(0);
    expect(outcome).toEqual({
      signed: COUNT,
      first: 'train/n00000000/img-000000.jpg',
      last: `train/n00000999/img-${String(COUNT - 1).padStart(6, '0')}.jpg`,
      kept: false,
    });
  }, 300_000);
});
