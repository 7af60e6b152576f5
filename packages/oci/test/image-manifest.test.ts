// How an OCI image manifest becomes a model: the names the Go port gives
// (title annotation, layer_NNN.tar.gz, config.json when included), checked
// against signatures the Go port made (test-fixtures/vectors/go-port-oci),
// and every manifest that cannot be signed refused with its own code.
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeyVerifier, verifyModel } from '@model-signing/core';
import { createSignature, writeSignature } from '@model-signing/core/internal/node';
import { afterAll, describe, expect, it } from 'vitest';
import { looksLikeImageManifest, modelFiles, parseImageManifest, signOciManifest, verifyOciManifest } from '../src/index.js';
import { GO_PORT_VECTORS, expectCode, keyPair, removeTempDirs, sha256, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const digestOf = (text: string) => `sha256:${sha256(text)}`;
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf('{}'), size: 2 };
const layer = (content: string, title?: string, digest = digestOf(content)) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest,
  size: content.length,
  ...(title === undefined ? {} : { annotations: { 'org.opencontainers.image.title': title } }),
});
const manifestBytes = (fields: object) =>
  new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: EMPTY, ...fields }),
  );
const filesOf = (fields: object, options = {}) => modelFiles(parseImageManifest(manifestBytes(fields), 'm'), options);

/** The resources a signature lists, by name. */
async function resourcesOf(signaturePath: string): Promise<Record<string, string>> {
  const bundle = JSON.parse(await fs.readFile(signaturePath, 'utf8')) as { dsseEnvelope: { payload: string } };
  const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
    predicate: { resources: { name: string; digest: string }[] };
  };
  return Object.fromEntries(statement.predicate.resources.map((r) => [r.name, r.digest]));
}

describe('layer names, as the Go port gives them', () => {
  it('names a layer by its title, else layer_NNN.tar.gz by its index; the config as config.json only when included', () => {
    const layers = [layer('a', 'weights/model.safetensors'), layer('b'), layer('c', ''), layer('d', './tokenizer.json')];
    expect(filesOf({ layers }).map((f) => [f.name, f.sha256])).toEqual([
      ['weights/model.safetensors', sha256('a')],
      ['layer_001.tar.gz', sha256('b')],
      ['layer_002.tar.gz', sha256('c')],
      ['tokenizer.json', sha256('d')],
    ]);
    expect(filesOf({ layers }, { includeConfig: true }).at(-1)).toMatchObject({ name: 'config.json', sha256: sha256('{}'), size: 2 });
    expect(filesOf({ layers }, { includeConfig: true, ignorePaths: ['config.json', 'weights'] }).map((f) => f.name)).toEqual([
      'layer_001.tar.gz',
      'layer_002.tar.gz',
      'tokenizer.json',
    ]);
  });

  it('signs as the Go port does: its default signature is ours with the config included, its --ignore-paths config.json ours without', async () => {
    const dir = await tempDir('go-names');
    const { signer } = await keyPair(dir);
    // titled-config: a layer is titled config.json, and replaces the config blob in the Go port's map.
    // untitled-config: the Go port signs the config blob as config.json: ours does with includeConfig.
    for (const [folder, includeConfig] of [
      ['titled-config', false],
      ['untitled-config', true],
    ] as const) {
      const manifestPath = path.join(GO_PORT_VECTORS, folder, 'manifest.json');
      const ours = await signOciManifest({ manifestPath, signer, includeConfig });
      const theirs = await resourcesOf(path.join(GO_PORT_VECTORS, folder, 'go-default.sig'));
      expect(Object.fromEntries(ours.manifest.resources.map((r) => [r.name, r.digest])), folder).toEqual(theirs);
      // The subject is named as the Go port names it: the manifest file's stem.
      expect(ours.manifest.modelName).toBe('manifest');
    }
    // The Go port's --ignore-paths config.json drops the layer titled config.json too.
    const withoutConfig = await signOciManifest({
      manifestPath: path.join(GO_PORT_VECTORS, 'titled-config', 'manifest.json'),
      signer,
      ignorePaths: ['config.json'],
    });
    expect(Object.fromEntries(withoutConfig.manifest.resources.map((r) => [r.name, r.digest]))).toEqual(
      await resourcesOf(path.join(GO_PORT_VECTORS, 'titled-config', 'go-ignore-config.sig')),
    );
  });

  it("verifies the Go port's signatures on the folder oras pull wrote, where their names allow it", async () => {
    const verifier = await KeyVerifier.create({ publicKey: path.join(GO_PORT_VECTORS, 'key.pub') });
    for (const signature of ['go-default.sig', 'go-ignore-config.sig']) {
      const folder = path.join(GO_PORT_VECTORS, 'titled-config');
      const ignored = signature === 'go-ignore-config.sig' ? ['config.json'] : [];
      const result = await verifyModel({
        modelPath: path.join(folder, 'model'),
        signaturePath: path.join(folder, signature),
        verifier,
        ignorePaths: ignored,
      });
      expect(result.files.length).toBe(3 - ignored.length);
    }
    // The config blob the Go port signs by default is not a file oras pull writes.
    const untitled = path.join(GO_PORT_VECTORS, 'untitled-config');
    const missing = await expectCode(
      () => verifyModel({ modelPath: path.join(untitled, 'model'), signaturePath: path.join(untitled, 'go-default.sig'), verifier }),
      'MISSING_FILE',
    );
    expect(missing.differences).toEqual([{ kind: 'missing', name: 'config.json' }]);
  });
});

describe('a signature checked against a manifest file (as the Go port and the reference PR #623 verify one)', () => {
  it("accepts the Go port's signatures and ours, refuses a changed layer digest, and a signature of digests a manifest does not list", async () => {
    const goKey = await KeyVerifier.create({ publicKey: path.join(GO_PORT_VECTORS, 'key.pub') });
    for (const folder of ['titled-config', 'untitled-config']) {
      const manifestPath = path.join(GO_PORT_VECTORS, folder, 'manifest.json');
      const result = await verifyOciManifest({
        manifestPath,
        signaturePath: path.join(GO_PORT_VECTORS, folder, 'go-default.sig'),
        verifier: goKey,
      });
      expect(result.files).toContain('config.json');
    }
    const dir = await tempDir('check');
    const keys = await keyPair(dir);
    const manifestPath = path.join(GO_PORT_VECTORS, 'untitled-config', 'manifest.json');
    const signaturePath = path.join(dir, 'ours.sig');
    await writeSignature(signaturePath, (await signOciManifest({ manifestPath, signer: keys.signer })).bundle);
    expect((await verifyOciManifest({ manifestPath, signaturePath, verifier: keys.verifier })).files).toEqual([
      'tokenizer.json',
      'weights.bin',
    ]);

    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as { layers: { digest: string }[] };
    manifest.layers[0].digest = digestOf('swapped');
    const changed = new TextEncoder().encode(JSON.stringify(manifest));
    const error = await expectCode(
      () => verifyOciManifest({ manifestBytes: changed, signaturePath, verifier: keys.verifier }),
      'DIGEST_MISMATCH',
    );
    expect(error.differences).toEqual([expect.objectContaining({ kind: 'mismatch', actual: sha256('swapped') })]);

    const blake2b = path.join(dir, 'blake2b.sig');
    const files = new Map([['weights.bin', new TextEncoder().encode('w2')]]);
    const created = await createSignature({
      signer: keys.signer,
      hashAlgorithm: 'blake2b',
      inMemory: { files, modelName: 'm', ignorePaths: [] },
    });
    await writeSignature(blake2b, created.bundle);
    await expectCode(() => verifyOciManifest({ manifestPath, signaturePath: blake2b, verifier: keys.verifier }), 'UNSUPPORTED_DIGEST');
  });
});

describe('manifests that cannot be signed', () => {
  it.each([
    ['not JSON', new TextEncoder().encode('{"schemaVersion": 2,'), 'OCI_MANIFEST_INVALID'],
    ['schemaVersion 1', manifestBytes({ schemaVersion: 1, layers: [] }), 'OCI_MANIFEST_INVALID'],
    [
      'an image index',
      new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })),
      'OCI_MANIFEST_INVALID',
    ],
    ['no layers array', manifestBytes({}), 'OCI_MANIFEST_INVALID'],
    ['a malformed digest', manifestBytes({ layers: [layer('a', 'a', 'sha256')] }), 'OCI_MANIFEST_INVALID'],
    ['a negative size', manifestBytes({ layers: [{ ...layer('a', 'a'), size: -1 }] }), 'OCI_MANIFEST_INVALID'],
    ['annotations that are not strings', manifestBytes({ layers: [{ ...layer('a'), annotations: { t: 1 } }] }), 'OCI_MANIFEST_INVALID'],
  ])('refuses %s', (_, bytes, code) => {
    let error: unknown;
    try {
      modelFiles(parseImageManifest(bytes, 'The manifest'));
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code, String(error)).toBe(code);
  });

  it.each([
    ['a sha512 layer digest', { layers: [layer('a', 'a', `sha512:${'ab'.repeat(64)}`)] }, {}, 'UNSUPPORTED_DIGEST'],
    [
      'a blake3 config digest, included',
      { config: { ...EMPTY, digest: `blake3:${'ab'.repeat(32)}` }, layers: [layer('a', 'a')] },
      { includeConfig: true },
      'UNSUPPORTED_DIGEST',
    ],
    ['an uppercase sha256 digest', { layers: [layer('a', 'a', `sha256:${sha256('a').toUpperCase()}`)] }, {}, 'OCI_MANIFEST_INVALID'],
    ['a title that leaves the model', { layers: [layer('a', '../etc/passwd')] }, {}, 'PATH_ESCAPE'],
    ['an absolute title', { layers: [layer('a', '/etc/passwd')] }, {}, 'PATH_ESCAPE'],
    ['a title that names no file', { layers: [layer('a', './')] }, {}, 'OCI_MANIFEST_INVALID'],
    ['two layers of one name', { layers: [layer('a', 'w.bin'), layer('b', './w.bin')] }, {}, 'OCI_MANIFEST_INVALID'],
    ['a name that is a file and a folder', { layers: [layer('a', 'w'), layer('b', 'w/x.bin')] }, {}, 'OCI_MANIFEST_INVALID'],
    [
      'a layer titled config.json with the config included',
      { layers: [layer('a', 'config.json')] },
      { includeConfig: true },
      'OCI_MANIFEST_INVALID',
    ],
    ['no layer', { layers: [] }, {}, 'EMPTY_MODEL'],
    ['no layer left once ignored', { layers: [layer('a', 'a')] }, { ignorePaths: ['a'] }, 'EMPTY_MODEL'],
  ])('refuses %s', (_, fields, options, code) => {
    let error: unknown;
    try {
      filesOf(fields, options);
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string }).code, String(error)).toBe(code);
  });

  it('takes a Docker schema 2 manifest (skopeo inspect --raw of an image pushed by Docker): untitled layers', () => {
    const docker = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digestOf('c'), size: 1 },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digestOf('x'), size: 1 }],
      }),
    );
    expect(modelFiles(parseImageManifest(docker, 'm')).map((f) => f.name)).toEqual(['layer_000.tar.gz']);
  });

  it('tells a manifest file from a model file as the Go port does', () => {
    expect(looksLikeImageManifest(manifestBytes({ layers: [] }))).toBe(true);
    expect(looksLikeImageManifest(new TextEncoder().encode('{"schemaVersion": 2, "manifests": []}'))).toBe(true);
    expect(looksLikeImageManifest(new TextEncoder().encode('{"hidden_size": 8}'))).toBe(false);
    expect(looksLikeImageManifest(new TextEncoder().encode('not json'))).toBe(false);
  });
});
