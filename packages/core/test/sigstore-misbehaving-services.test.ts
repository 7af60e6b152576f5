// Sigstore services that answer wrongly, each refused while signing with its
// code, and nothing written: a loopback proxy (sigstore/altering-proxy.ts) in
// front of one real server of the instance (test-fixtures/sigstore-instance.mjs:
// Fulcio, Rekor v2, a TSA) changes one thing in what passes, and a signing
// config names the proxy instead of the server. The same faults in a bundle
// at verification are rows of the shared verdict table
// (sigstore-web/verdict-table.ts, "real instance, Rekor v2").
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigstoreSigner, SigstoreVerifier, signModel, verifyModel } from '../dist/index.js';
import { WebSigstoreVerifier } from '../dist/browser.js';
import { startSigstoreInstance, type SigstoreInstance } from '../../../test-fixtures/sigstore-instance.mjs';
import { cleanupTempDirs, expectCode, tempDir } from './helpers.js';
import { startAlteringProxy, type Alterations, type AlteringProxy } from './sigstore/altering-proxy.js';

const ALICE = 'alice@example.com';
const MALLORY = 'mallory@example.com';

let instance: SigstoreInstance;
let dir: string;
let model: string;
/** A bundle the instance logged for another signature, whose entry a lying log can hand out again. */
let earlier: any;
const proxies: AlteringProxy[] = [];

beforeAll(async () => {
  instance = await startSigstoreInstance();
  dir = await tempDir('sigstore-misbehaving-');
  model = path.join(dir, 'model');
  await fs.mkdir(model);
  await fs.writeFile(path.join(model, 'weights.bin'), Buffer.from(Array.from({ length: 2048 }, (_, i) => i % 241)));
  const out = path.join(dir, 'earlier.sig');
  await signModel({ modelPath: model, signer: await signer(instance.trustConfigPath), signaturePath: out });
  earlier = JSON.parse(await fs.readFile(out, 'utf8'));
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await instance?.close();
  await cleanupTempDirs();
});

function signer(trustConfig: string, email = ALICE) {
  return SigstoreSigner.create({ identityToken: instance.identityToken({ email }), trustConfig });
}

/** The instance's trust config with one service behind a proxy that applies `alter`. */
async function behindProxy(service: 'fulcio' | 'rekor' | 'tsa', alter: Alterations): Promise<string> {
  const { origin, pathname } = new URL(instance.urls[service]);
  const proxy = await startAlteringProxy(origin, alter);
  proxies.push(proxy);
  const config = instance.trustConfig();
  const url = `${proxy.url}${pathname === '/' ? '' : pathname}`;
  const services = { fulcio: 'caUrls', rekor: 'rekorTlogUrls', tsa: 'tsaUrls' } as const;
  config.signingConfig[services[service]][0].url = url;
  const file = path.join(dir, `${service}-${proxies.length}.json`);
  await fs.writeFile(file, JSON.stringify(config));
  return file;
}

/** The log's current tree size, from the checkpoint it publishes. */
async function treeSize(): Promise<number> {
  return Number((await fs.readFile(path.join(instance.rekor.storageDir, 'checkpoint'), 'utf8')).split('\n')[1]);
}

/** Signs the model with `trustConfig` and expects `code`, no signature file, and a message that says nothing was written. */
async function refusedWhileSigning(trustConfig: string, code: string): Promise<Error> {
  const out = path.join(dir, `refused-${Math.random().toString(36).slice(2)}.sig`);
  const error = await expectCode(signModel({ modelPath: model, signer: await signer(trustConfig), signaturePath: out }), code);
  await expect(fs.access(out)).rejects.toThrow();
  expect(await fs.readdir(dir)).not.toContain(path.basename(out));
  return error;
}

/** Rewrites a Rekor v2 answer (a TransparencyLogEntry in protobuf JSON). */
const entryAnswer = (edit: (entry: any) => void) => (body: Buffer) => {
  const entry = JSON.parse(body.toString('utf8'));
  edit(entry);
  return Buffer.from(JSON.stringify(entry));
};

describe('a misbehaving service is refused while signing, and nothing is written', () => {
  it('a Rekor v2 log that answers with its entry for other bytes', async () => {
    const earlierEntry = earlier.verificationMaterial.tlogEntries[0];
    const config = await behindProxy('rekor', { response: () => Buffer.from(JSON.stringify(earlierEntry)) });
    const error = await refusedWhileSigning(config, 'SIGNATURE_INVALID');
    // sigstore-js's code for an entry body that is not this signature's.
    expect(error.message).toContain('(TLOG_BODY_ERROR)');
  });

  it('a checkpoint signed by another key than the log key in the trusted root', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    const config = await behindProxy('rekor', {
      response: entryAnswer((entry) => {
        const checkpoint: string = entry.inclusionProof.checkpoint.envelope;
        const note = checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1);
        // The log's name and key hint, a signature by another key over the same note.
        const [, name, signature] = /\u2014 (\S+) (\S+)\n/.exec(checkpoint)!;
        const hint = Buffer.from(signature, 'base64').subarray(0, 4);
        const forged = Buffer.concat([hint, sign(null, Buffer.from(note), other)]).toString('base64');
        entry.inclusionProof.checkpoint.envelope = `${note}\n\u2014 ${name} ${forged}\n`;
      }),
    });
    expect((await refusedWhileSigning(config, 'SIGNATURE_INVALID')).message).toContain('invalid checkpoint signature');
  });

  it('an inclusion proof that does not reach the checkpoint', async () => {
    const config = await behindProxy('rekor', {
      response: entryAnswer((entry) => {
        // One hash of the audit path replaced (or, for a log of one entry, one added).
        const hashes: string[] = entry.inclusionProof.hashes ?? [];
        entry.inclusionProof.hashes = [createHash('sha256').update('not a node of this tree').digest('base64'), ...hashes.slice(1)];
      }),
    });
    expect((await refusedWhileSigning(config, 'SIGNATURE_INVALID')).message).toContain('(TLOG_INCLUSION_PROOF_ERROR)');
  });

  it('a timestamp authority that stamps other bytes than the signature', async () => {
    const config = await behindProxy('tsa', {
      request: (body) => {
        // sigstore-js asks in JSON: the SHA-256 of the signature, base64.
        const request = JSON.parse(body.toString('utf8'));
        request.artifactHash = createHash('sha256').update('other bytes').digest('base64');
        return Buffer.from(JSON.stringify(request));
      },
    });
    expect((await refusedWhileSigning(config, 'CERT_CHAIN_INVALID')).message).toContain('(TIMESTAMP_ERROR)');
  });

  it('a Fulcio that hands out a certificate it issued to another identity, before anything is logged', async () => {
    let recorded: Buffer | undefined;
    const config = await behindProxy('fulcio', { response: (body) => (recorded ??= body) });
    // Mallory signs through the proxy first; her certificate is then every caller's.
    const mallorys = path.join(dir, 'mallory.sig');
    await signModel({ modelPath: model, signer: await signer(config, MALLORY), signaturePath: mallorys });
    const logged = await treeSize();
    const error = await refusedWhileSigning(config, 'SIGNATURE_INVALID');
    expect(error.message).toContain(`another key`);
    expect(await treeSize()).toBe(logged);

    // Her own signature is valid, and is hers: verifying it as Alice's fails on the identity.
    const trustedRoot = await fs.readFile(instance.trustConfigPath, 'utf8');
    const options = { identityProvider: instance.urls.oidc };
    for (const verifier of [
      await SigstoreVerifier.create({ ...options, identity: ALICE, trustConfig: instance.trustConfigPath }),
      await WebSigstoreVerifier.create({ ...options, identity: ALICE, trustedRoot }),
    ]) {
      const mismatch = await expectCode(verifyModel({ modelPath: model, signaturePath: mallorys, verifier }), 'IDENTITY_MISMATCH');
      expect(mismatch.message).toContain(MALLORY);
    }
    const asMallory = await SigstoreVerifier.create({ ...options, identity: MALLORY, trustConfig: instance.trustConfigPath });
    await expect(verifyModel({ modelPath: model, signaturePath: mallorys, verifier: asMallory })).resolves.toMatchObject({
      signer: { identity: MALLORY },
    });
  });
});
