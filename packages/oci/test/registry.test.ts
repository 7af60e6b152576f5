// Models in a real OCI registry (go-containerregistry's, on loopback), pushed
// and pulled by the real ORAS CLI: we sign from the manifest ORAS fetches and
// from oci://, ORAS pulls, we and the reference (Python model_signing 1.1.1)
// verify the folder; our verified pull; the signature stored as an OCI 1.1
// referrer (through the referrers API on the registry that has it, the
// referrers tag on the one that does not) and found again; and every attack
// and failure refused with its own code, with nothing left on disk.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { verifyModel } from '@model-signing/core';
import { serializeBundle } from '@model-signing/core/internal';
import { appendClaim, writeSignature } from '@model-signing/core/internal/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-fixtures/servers.mjs';
import { oras, startRegistry, startTokenService, writeDockerConfig, type RunningRegistry } from '../../../test-fixtures/oci-registry.mjs';
import { pullVerifiedModel, signOciManifest, verifyOciModel, type PullProgress } from '../src/index.js';
import { parseOciReference } from '../src/reference.js';
import { pushSignature } from '../src/referrers.js';
import { RegistryClient } from '../src/registry.js';
import { REPO_ROOT, countingFetch, expectCode, keyPair, listTree, orasPush, removeTempDirs, sha256, tempDir } from './helpers.js';

const REFERENCE_CLI = path.join(process.env['MODEL_SIGNING_REFERENCE_VENV'] ?? path.join(REPO_ROOT, '.venv-ref'), 'bin/model_signing');
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

let dir: string;
let plain: RunningRegistry;
let withReferrers: RunningRegistry;
let keys: Awaited<ReturnType<typeof keyPair>>;
/** Anonymous registries on loopback: no credentials are read, from anywhere. */
const LOOPBACK = { plainHttp: true, dockerConfig: false } as const;

const model = () => ({
  'model.safetensors': randomBytes(300_000),
  'config.json': '{"hidden_size": 8}',
  'tokenizer/vocab.txt': 'hello\nworld\n',
});

beforeAll(async () => {
  dir = await tempDir('registry');
  [plain, withReferrers, keys] = await Promise.all([startRegistry({ dir }), startRegistry({ dir, referrers: true }), keyPair(dir)]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), withReferrers?.stop()]);
  await removeTempDirs();
});

/** A fetch that records `METHOD path status` of every request. */
function recordingFetch(): { fetch: typeof fetch; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      seen.push(`${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input.toString()).pathname} ${response.status}`);
      return response;
    },
  };
}

/** The artifact manifest each junk signature was pushed in, by the sha256 of its bytes. */
const artifactDigests = new Map<string, string>();

/**
 * Pushes `text` as a "signature" of the manifest `reference` names, as anyone
 * with push rights may: an artifact of the Sigstore bundle type with an OMS
 * predicate annotation, made `minutesAhead` from now (newer than the genuine one);
 * with `withoutBlob`, its bundle blob is never uploaded.
 */
async function pushJunk(reference: string, text: string, minutesAhead = 1, options: { withoutBlob?: true } = {}): Promise<Uint8Array> {
  const ref = parseOciReference(reference);
  const client = new RegistryClient(ref, LOOPBACK);
  const current = await client.manifest(ref.tag!);
  const bytes = new TextEncoder().encode(text);
  // Without its blob: the artifact manifest pushed as usual, the bundle's blob upload skipped (a registry that does not check).
  const pushing = options.withoutBlob
    ? Object.assign(Object.create(client) as RegistryClient, {
        pushBlob: (blob: Uint8Array, digest: string) => (blob === bytes ? Promise.resolve() : client.pushBlob(blob, digest)),
      })
    : client;
  const pushed = await pushSignature(
    pushing,
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: current.digest, size: current.bytes.length },
    bytes,
    'https://model_signing/signature/v1.0',
    new Date(Date.now() + minutesAhead * 60_000),
  );
  artifactDigests.set(sha256(bytes), pushed.digest);
  return bytes;
}

describe.each([
  ['a registry without the referrers API (referrers tag)', () => plain, false],
  ['a registry with the referrers API', () => withReferrers, true],
])('%s', (_, registry, referrersApi) => {
  it('ORAS pushes; we sign from the fetched manifest and from oci://; ORAS pulls; we and the reference verify the folder', async () => {
    const host = registry().host;
    const files = model();
    await orasPush(host, 'm/tiny:v1', files, dir);
    const work = await tempDir('flow');
    const { stdout: fetched } = await oras(['manifest', 'fetch', '--plain-http', `${host}/m/tiny:v1`], { cwd: work });
    const manifestPath = path.join(work, 'tiny.json');
    await fs.writeFile(manifestPath, fetched);

    const fromFile = await signOciManifest({ manifestPath, signer: keys.signer });
    const fromRegistry = await signOciManifest({ reference: `oci://${host}/m/tiny:v1`, signer: keys.signer, ...LOOPBACK });
    expect(fromFile.manifest.modelName).toBe('tiny');
    expect(fromRegistry.manifest.modelName).toBe('tiny');
    expect(fromRegistry.manifest.resources).toEqual(fromFile.manifest.resources);
    expect(fromFile.manifest.resources.map((r) => [r.name, r.digest])).toEqual(
      Object.entries(files)
        .map(([name, data]) => [name, sha256(data)])
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    expect(fromRegistry.subject.digest).toBe(fromFile.subject.digest);
    expect(fromRegistry.reference).toBe(`oci://${host}/m/tiny:v1@${fromFile.subject.digest}`);
    expect(fromRegistry.pushed?.referrersApi).toBe(false); // go-containerregistry never answers OCI-Subject…
    expect(fromRegistry.pushed?.fallbackTag).toBe(fromFile.subject.digest.replace(':', '-')); // …so the tag is written too

    // ORAS sees the signature as a referrer of the manifest (through the API or the tag, as the registry offers;
    // go-containerregistry's referrers API reports an artifact's config media type as its artifactType).
    const { stdout: discovered } = await oras(['discover', '--plain-http', '--format', 'json', `${host}/m/tiny:v1`], { cwd: work });
    const referrers = (JSON.parse(discovered) as { referrers?: { digest: string; artifactType: string }[] }).referrers ?? [];
    const artifactType = referrersApi ? 'application/vnd.oci.empty.v1+json' : BUNDLE_TYPE;
    expect(referrers).toContainEqual(expect.objectContaining({ digest: fromRegistry.pushed!.digest, artifactType }));

    const pulled = path.join(work, 'pulled');
    await fs.mkdir(pulled);
    await oras(['pull', '--plain-http', `${host}/m/tiny:v1`], { cwd: pulled });
    const signaturePath = path.join(work, 'tiny.sig');
    await writeSignature(signaturePath, fromFile.bundle);
    const verified = await verifyModel({ modelPath: pulled, signaturePath, verifier: keys.verifier });
    expect(verified.files.sort()).toEqual(Object.keys(files).sort());
    // The reference has no OCI support, but a pulled model is a folder of files, named as we signed them.
    const referenceRun = await promisify(execFile)(REFERENCE_CLI, [
      'verify',
      'key',
      pulled,
      '--signature',
      signaturePath,
      '--public_key',
      keys.publicKey,
    ]);
    expect(referenceRun.stdout + referenceRun.stderr).toContain('Verification succeeded');
  });

  it('pulls verified: the signature found in the registry, each layer hashed as it arrives, the folder oras pull writes', async () => {
    const host = registry().host;
    const files = model();
    await orasPush(host, 'm/pull:v1', files, dir);
    const signed = await signOciManifest({ reference: `oci://${host}/m/pull:v1`, signer: keys.signer, ...LOOPBACK });
    const output = path.join(await tempDir('pull'), 'nested', 'out');
    const phases: PullProgress['phase'][] = [];
    const result = await pullVerifiedModel({
      reference: `oci://${host}/m/pull:v1`,
      verifier: keys.verifier,
      outputDir: output,
      ...LOOPBACK,
      onProgress: (p) => phases.push(p.phase),
    });
    expect(result.reference).toBe(signed.reference);
    expect(result.signature).toMatchObject({ referrer: signed.pushed!.digest });
    expect(result.files).toEqual(Object.keys(files).sort());
    expect(await listTree(output)).toEqual([...Object.keys(files), 'model.sig'].sort());
    for (const [name, data] of Object.entries(files)) expect(await fs.readFile(path.join(output, name))).toEqual(Buffer.from(data));
    expect(JSON.parse(await fs.readFile(result.signaturePath, 'utf8'))).toEqual(JSON.parse(serializeBundle(signed.bundle)));
    expect(phases[0]).toBe('signature-verified');
    expect(phases.filter((p) => p === 'file-verified')).toHaveLength(3);
    // The pulled folder verifies with its signature, as any signed folder does.
    await verifyModel({ modelPath: output, signaturePath: result.signaturePath, verifier: keys.verifier });

    // Without an output folder nothing is kept; with a signature file, it is used instead of the registry's.
    const signaturePath = path.join(dir, 'pull.sig');
    await writeSignature(signaturePath, signed.bundle);
    const checked = await verifyOciModel({ reference: `oci://${host}/m/pull:v1`, verifier: keys.verifier, signaturePath, ...LOOPBACK });
    expect(checked.signature).toEqual({ path: signaturePath });
    expect(checked.files).toEqual(result.files);

    // Found through the referrers API where the registry has it, else through the referrers tag.
    const recording = recordingFetch();
    await verifyOciModel({ reference: `oci://${host}/m/pull:v1`, verifier: keys.verifier, ...LOOPBACK, fetch: recording.fetch });
    const tag = `/manifests/${signed.subject.digest.replace(':', '-')}`;
    expect(recording.seen).toContainEqual(
      expect.stringMatching(referrersApi ? /^GET \/v2\/m\/pull\/referrers\/sha256:\w+ 200$/ : /referrers.* 404$/),
    );
    expect(recording.seen.some((line) => line.includes(tag))).toBe(!referrersApi);
  });
});

describe('refusals', () => {
  it('a tampered layer (another blob under the same name and tag): refused before a layer byte is fetched, nothing left', async () => {
    const host = plain.host;
    const files = model();
    await orasPush(host, 'm/tamper:v1', files, dir);
    const signed = await signOciManifest({ reference: `oci://${host}/m/tamper:v1`, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'tamper.sig');
    await writeSignature(signaturePath, signed.bundle);
    // The first byte flipped: always another byte, whatever the random model holds.
    const changed = Buffer.from(files['model.safetensors']);
    changed[0] ^= 0xff;
    const tampered = { ...files, 'model.safetensors': changed };
    await orasPush(host, 'm/tamper:v1', tampered, dir);

    // The tag now names a manifest nobody signed: the registry holds no signature for it.
    await expectCode(() => verifyOciModel({ reference: `oci://${host}/m/tamper:v1`, verifier: keys.verifier, ...LOOPBACK }), 'NOT_FOUND');
    // With the publisher's signature (a file, or copied by the attacker onto the new manifest): the listing shows the change.
    const client = new RegistryClient(parseOciReference(`oci://${host}/m/tamper:v1`), LOOPBACK);
    const current = await client.manifest('v1');
    await pushSignature(
      client,
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: current.digest, size: current.bytes.length },
      new TextEncoder().encode(serializeBundle(signed.bundle)),
      'https://model_signing/signature/v1.0',
    );
    const layers = signed.files.map((f) => f.descriptor.digest).concat(sha256(tampered['model.safetensors']));
    for (const source of [{ signaturePath }, {}]) {
      const counting = countingFetch(layers.map((d) => (d.includes(':') ? d : `sha256:${d}`)));
      const output = path.join(await tempDir('tamper'), 'out');
      const error = await expectCode(
        () =>
          pullVerifiedModel({
            reference: `oci://${host}/m/tamper:v1`,
            verifier: keys.verifier,
            outputDir: output,
            ...LOOPBACK,
            ...source,
            fetch: counting.fetch,
          }),
        'DIGEST_MISMATCH',
      );
      expect(error.differences).toEqual([
        {
          kind: 'mismatch',
          name: 'model.safetensors',
          expected: sha256(files['model.safetensors']),
          actual: sha256(tampered['model.safetensors']),
        },
      ]);
      expect(counting.layersFetched()).toBe(0);
      await expect(fs.stat(output)).rejects.toThrow(); // created by the pull, removed with everything in it
    }
  });

  it('bytes changed in flight (the registry serves other bytes for a layer): refused at that layer, nothing left', async () => {
    const host = plain.host;
    const files = model();
    await orasPush(host, 'm/flight:v1', files, dir);
    await signOciManifest({ reference: `oci://${host}/m/flight:v1`, signer: keys.signer, ...LOOPBACK });
    const target = `sha256:${sha256(files['model.safetensors'])}`;
    // An attacker between us and the registry: same length, one byte flipped, in the last chunk.
    const flipping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!(input instanceof Request ? input.url : input.toString()).endsWith(`/blobs/${target}`)) return response;
      const bytes = new Uint8Array(await response.arrayBuffer());
      bytes[bytes.length - 1] ^= 1;
      return new Response(bytes, { status: response.status, headers: response.headers });
    };
    const output = await tempDir('flight'); // exists and is empty: kept, but emptied again
    const error = await expectCode(
      () =>
        pullVerifiedModel({
          reference: `oci://${host}/m/flight:v1`,
          verifier: keys.verifier,
          outputDir: output,
          ...LOOPBACK,
          fetch: flipping,
          concurrency: 1,
        }),
      'DIGEST_MISMATCH',
    );
    expect(error.path).toBe('model.safetensors');
    expect(error.message).toContain(`nothing was left in ${output}`);
    expect(await listTree(output)).toEqual([]);
  });

  it('a layer the registry sends longer than the manifest lists is refused by the session (BODY_TOO_LARGE) at that length; nothing left', async () => {
    const host = plain.host;
    const files = model();
    await orasPush(host, 'm/longer:v1', files, dir);
    await signOciManifest({ reference: `oci://${host}/m/longer:v1`, signer: keys.signer, ...LOOPBACK });
    const target = `sha256:${sha256(files['model.safetensors'])}`;
    const longer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!(input instanceof Request ? input.url : input.toString()).endsWith(`/blobs/${target}`)) return response;
      const bytes = new Uint8Array(await response.arrayBuffer());
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      return new Response(Buffer.concat([bytes, Buffer.from('appended')]), { status: response.status, headers });
    };
    const output = path.join(await tempDir('longer'), 'out');
    const error = await expectCode(
      () =>
        pullVerifiedModel({
          reference: `oci://${host}/m/longer:v1`,
          verifier: keys.verifier,
          outputDir: output,
          ...LOOPBACK,
          fetch: longer,
        }),
      'BODY_TOO_LARGE',
    );
    expect(error.path).toBe('model.safetensors');
    await expect(fs.stat(output)).rejects.toThrow();
  });

  it('an added layer is refused (UNSIGNED_FILE), or left out and not fetched when unsigned files are tolerated', async () => {
    const host = withReferrers.host;
    const files = model();
    await orasPush(host, 'm/added:v1', files, dir);
    const signed = await signOciManifest({ reference: `oci://${host}/m/added:v1`, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'added.sig');
    await writeSignature(signaturePath, signed.bundle);
    const extra = { ...files, 'backdoor.py': 'import os' };
    await orasPush(host, 'm/added:v1', extra, dir);
    const output = path.join(await tempDir('added'), 'out');
    const error = await expectCode(
      () =>
        pullVerifiedModel({
          reference: `oci://${host}/m/added:v1`,
          verifier: keys.verifier,
          signaturePath,
          outputDir: output,
          ...LOOPBACK,
        }),
      'UNSIGNED_FILE',
    );
    expect(error.differences).toEqual([{ kind: 'unsigned', name: 'backdoor.py' }]);
    await expect(fs.stat(output)).rejects.toThrow();
    const counting = countingFetch([`sha256:${sha256('import os')}`]);
    const tolerated = await pullVerifiedModel({
      reference: `oci://${host}/m/added:v1`,
      verifier: keys.verifier,
      signaturePath,
      outputDir: output,
      ignoreUnsignedFiles: true,
      ...LOOPBACK,
      fetch: counting.fetch,
    });
    expect(tolerated.notChecked).toEqual(['backdoor.py']);
    expect(counting.layersFetched()).toBe(0);
    expect(await listTree(output)).toEqual([...Object.keys(files), 'model.sig'].sort());
  });

  it('a missing layer is refused (MISSING_FILE)', async () => {
    const host = plain.host;
    const files = model();
    await orasPush(host, 'm/missing:v1', files, dir);
    const signed = await signOciManifest({ reference: `oci://${host}/m/missing:v1`, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'missing.sig');
    await writeSignature(signaturePath, signed.bundle);
    const { 'tokenizer/vocab.txt': _dropped, ...fewer } = files;
    await orasPush(host, 'm/missing:v1', fewer, dir);
    const error = await expectCode(
      () => verifyOciModel({ reference: `oci://${host}/m/missing:v1`, verifier: keys.verifier, signaturePath, ...LOOPBACK }),
      'MISSING_FILE',
    );
    expect(error.differences).toEqual([{ kind: 'missing', name: 'tokenizer/vocab.txt' }]);
  });

  it('a manifest with a digest other than sha256 is refused (UNSUPPORTED_DIGEST), from a file and from the registry', async () => {
    const work = await tempDir('sha512');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256('{}')}`, size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha512:${'ab'.repeat(64)}`,
          size: 4,
          annotations: { 'org.opencontainers.image.title': 'weights.bin' },
        },
      ],
    };
    const manifestPath = path.join(work, 'sha512.json');
    await fs.writeFile(manifestPath, JSON.stringify(manifest));
    const fromFile = await expectCode(() => signOciManifest({ manifestPath, signer: keys.signer }), 'UNSUPPORTED_DIGEST');
    expect(fromFile.message).toContain('sha512');
    await oras(['manifest', 'push', '--plain-http', `${plain.host}/m/sha512:v1`, manifestPath], { cwd: work });
    await expectCode(
      () => signOciManifest({ reference: `oci://${plain.host}/m/sha512:v1`, signer: keys.signer, ...LOOPBACK }),
      'UNSUPPORTED_DIGEST',
    );
  });

  it('an unreachable registry is refused (NETWORK_ERROR); a missing tag (NOT_FOUND); TLS to a plain-HTTP registry says so', async () => {
    const port = await freePort();
    await expectCode(
      () => signOciManifest({ reference: `oci://127.0.0.1:${port}/m/x:v1`, signer: keys.signer, ...LOOPBACK }),
      'NETWORK_ERROR',
    );
    await expectCode(
      () => verifyOciModel({ reference: `oci://${plain.host}/m/nothing:v1`, verifier: keys.verifier, ...LOOPBACK }),
      'NOT_FOUND',
    );
    const tls = await expectCode(
      () => verifyOciModel({ reference: `oci://${plain.host}/m/nothing:v1`, verifier: keys.verifier, dockerConfig: false }),
      'NETWORK_ERROR',
    );
    expect(tls.message).toContain('plainHttp');
  });

  it('an output folder that is not empty is refused before anything is fetched (INVALID_ARGUMENT)', async () => {
    const output = await tempDir('busy');
    await fs.writeFile(path.join(output, 'mine.txt'), 'keep me');
    await expectCode(
      () => pullVerifiedModel({ reference: `oci://${plain.host}/m/tiny:v1`, verifier: keys.verifier, outputDir: output, ...LOOPBACK }),
      'INVALID_ARGUMENT',
    );
    expect(await listTree(output)).toEqual(['mine.txt']);
  });

  it('a cancelled pull rejects with ABORTED and leaves nothing', async () => {
    const host = plain.host;
    await orasPush(host, 'm/abort:v1', model(), dir);
    await signOciManifest({ reference: `oci://${host}/m/abort:v1`, signer: keys.signer, ...LOOPBACK });
    const controller = new AbortController();
    const output = path.join(await tempDir('abort'), 'out');
    await expectCode(
      () =>
        pullVerifiedModel({
          reference: `oci://${host}/m/abort:v1`,
          verifier: keys.verifier,
          outputDir: output,
          ...LOOPBACK,
          abortSignal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'downloading') controller.abort();
          },
        }),
      'ABORTED',
    );
    await expect(fs.stat(output)).rejects.toThrow();
  });

  it('a signature over the bundle limit is refused (BUNDLE_TOO_LARGE), stored or given as a file, before a layer is fetched; nothing left', async () => {
    const host = withReferrers.host;
    const reference = `oci://${host}/m/huge-signature:v1`;
    await orasPush(host, 'm/huge-signature:v1', model(), dir);
    const signed = await signOciManifest({ reference, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'huge-signature.sig');
    await writeSignature(signaturePath, signed.bundle);
    const layers = signed.files.map((f) => f.descriptor.digest);
    // Our own signature, read under a limit it exceeds: stored in the registry, and as a file (the session's one bounded read).
    for (const source of [{}, { signaturePath }]) {
      const counting = countingFetch(layers);
      const output = path.join(await tempDir('huge-signature'), 'out');
      const error = await expectCode(
        () =>
          pullVerifiedModel({
            reference,
            verifier: keys.verifier,
            outputDir: output,
            maxBundleBytes: 512,
            ...LOOPBACK,
            ...source,
            fetch: counting.fetch,
          }),
        'BUNDLE_TOO_LARGE',
      );
      expect(error.message).toContain('512');
      expect(counting.layersFetched()).toBe(0);
      await expect(fs.stat(output)).rejects.toThrow();
    }
    // A stored 3 MiB "signature" alone: refused from its listed size, its blob never downloaded.
    const lone = `oci://${host}/m/huge-signature-only:v1`;
    await orasPush(host, 'm/huge-signature-only:v1', model(), dir);
    const junk = await pushJunk(lone, JSON.stringify({ padding: 'x'.repeat(3 * 1024 * 1024) }));
    const counting = countingFetch([`sha256:${sha256(junk)}`]);
    const error = await expectCode(
      () => verifyOciModel({ reference: lone, verifier: keys.verifier, maxBundleBytes: 1024 * 1024, ...LOOPBACK, fetch: counting.fetch }),
      'BUNDLE_TOO_LARGE',
    );
    expect(error.message).toContain(String(junk.length));
    expect(counting.layersFetched()).toBe(0);
  });

  it('no signature stored for the manifest is refused (NOT_FOUND) before a layer is fetched; nothing left', async () => {
    const host = plain.host;
    await orasPush(host, 'm/unsigned:v1', model(), dir);
    const output = path.join(await tempDir('unsigned'), 'out');
    const { fetch: recording, seen } = recordingFetch();
    const error = await expectCode(
      () =>
        pullVerifiedModel({
          reference: `oci://${host}/m/unsigned:v1`,
          verifier: keys.verifier,
          outputDir: output,
          ...LOOPBACK,
          fetch: recording,
        }),
      'NOT_FOUND',
    );
    expect(error.message).toContain('No model signature is stored');
    expect(seen.filter((s) => s.includes('/blobs/'))).toEqual([]);
    await expect(fs.stat(output)).rejects.toThrow();
  });

  it('a signature by another key is refused (KEY_MISMATCH) before a layer is fetched, stored or given as a file; nothing left', async () => {
    const host = plain.host;
    const reference = `oci://${host}/m/wrong-key:v1`;
    await orasPush(host, 'm/wrong-key:v1', model(), dir);
    const signed = await signOciManifest({ reference, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'wrong-key.sig');
    await writeSignature(signaturePath, signed.bundle);
    const stranger = await keyPair(await tempDir('stranger'));
    for (const source of [{}, { signaturePath }]) {
      const counting = countingFetch(signed.files.map((f) => f.descriptor.digest));
      const output = path.join(await tempDir('wrong-key'), 'out');
      await expectCode(
        () =>
          pullVerifiedModel({ reference, verifier: stranger.verifier, outputDir: output, ...LOOPBACK, ...source, fetch: counting.fetch }),
        'KEY_MISMATCH',
      );
      expect(counting.layersFetched()).toBe(0);
      await expect(fs.stat(output)).rejects.toThrow();
    }
  });

  it("layers named like signature or attestation files are the session's: left out and not fetched unless signed; with ignoreAttestationFiles: false, refused (UNSIGNED_FILE)", async () => {
    const host = withReferrers.host;
    const reference = `oci://${host}/m/attestations:v1`;
    const files = model();
    await orasPush(host, 'm/attestations:v1', files, dir);
    const signed = await signOciManifest({ reference, signer: keys.signer, ...LOOPBACK });
    const signaturePath = path.join(dir, 'attestations.sig');
    await writeSignature(signaturePath, signed.bundle);
    const claims = '{"not":"read"}\n';
    await orasPush(host, 'm/attestations:v1', { ...files, 'claims.jsonl': claims, 'other.sig': 'x' }, dir);
    const counting = countingFetch([`sha256:${sha256(claims)}`, `sha256:${sha256('x')}`]);
    const output = path.join(await tempDir('attestations'), 'out');
    const pulled = await pullVerifiedModel({
      reference,
      verifier: keys.verifier,
      signaturePath,
      outputDir: output,
      ...LOOPBACK,
      fetch: counting.fetch,
    });
    expect(pulled.notChecked).toEqual(['claims.jsonl', 'other.sig']);
    expect(counting.layersFetched()).toBe(0);
    expect(await listTree(output)).toEqual([...Object.keys(files), 'model.sig'].sort());
    const error = await expectCode(
      () => verifyOciModel({ reference, verifier: keys.verifier, signaturePath, ignoreAttestationFiles: false, ...LOOPBACK }),
      'UNSIGNED_FILE',
    );
    // claims.jsonl is under the signature's own ignore paths (signing records it, as the reference does); other.sig only the rule leaves out.
    expect(signed.manifest.serialization.ignorePaths).toContain('claims.jsonl');
    expect(error.differences).toEqual([{ kind: 'unsigned', name: 'other.sig' }]);
  });
});

describe('signatures stored in the registry', () => {
  it("with several stored, the newest that verifies counts: another signer's newer signature does not hide ours", async () => {
    const host = withReferrers.host;
    await orasPush(host, 'm/two-signers:v1', model(), dir);
    const ours = await signOciManifest({ reference: `oci://${host}/m/two-signers:v1`, signer: keys.signer, ...LOOPBACK });
    const other = await keyPair(await tempDir('other'));
    const theirs = await signOciManifest({ reference: `oci://${host}/m/two-signers:v1`, signer: other.signer, ...LOOPBACK });
    const byUs = await verifyOciModel({ reference: `oci://${host}/m/two-signers:v1`, verifier: keys.verifier, ...LOOPBACK });
    expect(byUs.signature).toMatchObject({ referrer: ours.pushed!.digest });
    const byThem = await verifyOciModel({ reference: `oci://${host}/m/two-signers:v1`, verifier: other.verifier, ...LOOPBACK });
    expect(byThem.signature).toMatchObject({ referrer: theirs.pushed!.digest });
    const stranger = await keyPair(await tempDir('stranger'));
    await expectCode(
      () => verifyOciModel({ reference: `oci://${host}/m/two-signers:v1`, verifier: stranger.verifier, ...LOOPBACK }),
      'KEY_MISMATCH',
    );
  });

  it('the pulled folder keeps the one bundle that verified: the stored one among several, the line of a claims file; the folder verifies with it', async () => {
    const host = withReferrers.host;
    const reference = `oci://${host}/m/kept:v1`;
    await orasPush(host, 'm/kept:v1', model(), dir);
    const ours = await signOciManifest({ reference, signer: keys.signer, ...LOOPBACK });
    const other = await keyPair(await tempDir('kept-other'));
    const theirs = await signOciManifest({ reference, signer: other.signer, ...LOOPBACK });
    const stored = await pullVerifiedModel({
      reference,
      verifier: keys.verifier,
      outputDir: path.join(await tempDir('kept'), 'out'),
      ...LOOPBACK,
    });
    expect(stored.source).toMatchObject({ layout: 'claims', lines: 2 }); // both stored, as lines of a claims layout
    expect(await fs.readFile(stored.signaturePath, 'utf8')).toBe(serializeBundle(ours.bundle));
    await verifyModel({ modelPath: stored.outputDir, signaturePath: stored.signaturePath, verifier: keys.verifier });

    // A claims file with their signature on the newest line: ours verifies, and its line alone is kept as model.sig.
    const claimsPath = path.join(await tempDir('kept-claims'), 'claims.jsonl');
    await appendClaim(claimsPath, ours.bundle);
    await appendClaim(claimsPath, theirs.bundle);
    const fromClaims = await pullVerifiedModel({
      reference,
      verifier: keys.verifier,
      signaturePath: claimsPath,
      outputDir: path.join(await tempDir('kept'), 'out'),
      ...LOOPBACK,
    });
    expect(fromClaims.source).toMatchObject({ layout: 'claims', line: 1 });
    expect(JSON.parse(await fs.readFile(fromClaims.signaturePath, 'utf8'))).toEqual(JSON.parse(serializeBundle(ours.bundle)));
    await verifyModel({ modelPath: fromClaims.outputDir, signaturePath: fromClaims.signaturePath, verifier: keys.verifier });
  });

  it('junk stored beside a genuine signature does not deny it: each candidate is read within the limits, the genuine one verifies', async () => {
    const host = withReferrers.host;
    const reference = `oci://${host}/m/junk-beside:v1`;
    await orasPush(host, 'm/junk-beside:v1', model(), dir);
    const ours = await signOciManifest({ reference, signer: keys.signer, ...LOOPBACK });
    const limit = 1024 * 1024;
    // All newer than ours: one over the limit (never downloaded), two under it that together go over, one that is not JSON.
    const oversized = await pushJunk(reference, JSON.stringify({ padding: 'x'.repeat(3 * 1024 * 1024) }), 4);
    const [half1, half2] = [
      await pushJunk(reference, JSON.stringify({ padding: 'a'.repeat(600 * 1024) }), 3),
      await pushJunk(reference, JSON.stringify({ padding: 'b'.repeat(600 * 1024) }), 2),
    ];
    const notJson = await pushJunk(reference, '\u0000not json\n{', 1);
    const missing = await pushJunk(reference, JSON.stringify({ blob: 'never uploaded' }), 0.5, { withoutBlob: true });
    const counting = countingFetch([`sha256:${sha256(oversized)}`, `sha256:${sha256(half2)}`]);
    const verified = await verifyOciModel({
      reference,
      verifier: keys.verifier,
      maxBundleBytes: limit,
      ...LOOPBACK,
      fetch: counting.fetch,
    });
    expect(verified.signature).toMatchObject({ referrer: ours.pushed!.digest });
    // Neither the one over the limit nor the one past what is left of it was downloaded.
    expect(counting.layersFetched()).toBe(0);
    const pulled = await pullVerifiedModel({
      reference,
      verifier: keys.verifier,
      outputDir: path.join(await tempDir('junk-beside'), 'out'),
      maxBundleBytes: limit,
      ...LOOPBACK,
    });
    expect(await fs.readFile(pulled.signaturePath, 'utf8')).toBe(serializeBundle(ours.bundle));

    // When none verifies, the refusal names every candidate: the lines tried, and those not read with why; nothing is left.
    const stranger = await keyPair(await tempDir('junk-stranger'));
    const output = path.join(await tempDir('junk-beside'), 'out');
    const error = await expectCode(
      () => pullVerifiedModel({ reference, verifier: stranger.verifier, outputDir: output, maxBundleBytes: limit, ...LOOPBACK }),
      'KEY_MISMATCH',
    );
    const digests = Object.fromEntries(
      Object.entries({ ours: ours.pushed!.digest, oversized, half1, half2, notJson, missing }).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : artifactDigests.get(sha256(v))!,
      ]),
    );
    for (const digest of Object.values(digests)) expect(error.message).toContain(digest);
    expect(error.message).toContain(`${digests['oversized']} was not read: The signature stored as ${digests['oversized']}`);
    expect(error.message).toMatch(new RegExp(`${digests['half2']} was not read: .*bytes left of the limit of ${limit}`));
    expect(error.message).toContain(`line 1 is ${digests['ours']}`);
    expect(error.message).toContain(`${digests['missing']} was not read: `);
    expect(error.message).toContain(`nothing was left in ${output}`);
    await expect(fs.stat(output)).rejects.toThrow();
  });

  it('when no stored signature can be read, the refusal names each (BUNDLE_TOO_LARGE), none of their blobs downloaded', async () => {
    const host = plain.host;
    const reference = `oci://${host}/m/junk-only:v1`;
    await orasPush(host, 'm/junk-only:v1', model(), dir);
    const junk = [
      await pushJunk(reference, JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }), 2),
      await pushJunk(reference, JSON.stringify({ padding: 'y'.repeat(2 * 1024 * 1024) }), 1),
    ];
    const counting = countingFetch(junk.map((j) => `sha256:${sha256(j)}`));
    const error = await expectCode(
      () => verifyOciModel({ reference, verifier: keys.verifier, maxBundleBytes: 1024 * 1024, ...LOOPBACK, fetch: counting.fetch }),
      'BUNDLE_TOO_LARGE',
    );
    expect(error.message).toContain('None of the 2 signatures stored');
    for (const j of junk) expect(error.message).toContain(artifactDigests.get(sha256(j))!);
    expect(counting.layersFetched()).toBe(0);
  });

  it('signing without pushing stores nothing: verifying from the registry then finds no signature (NOT_FOUND)', async () => {
    const host = plain.host;
    await orasPush(host, 'm/unpushed:v1', model(), dir);
    const signed = await signOciManifest({ reference: `oci://${host}/m/unpushed:v1`, signer: keys.signer, push: false, ...LOOPBACK });
    expect(signed.pushed).toBeUndefined();
    const error = await expectCode(
      () => verifyOciModel({ reference: `oci://${host}/m/unpushed:v1`, verifier: keys.verifier, ...LOOPBACK }),
      'NOT_FOUND',
    );
    expect(error.message).toContain('No model signature is stored');
  });
});

describe('a registry that requires a token (the distribution spec token flow, credentials from the Docker config)', () => {
  let tokens: Awaited<ReturnType<typeof startTokenService>>;
  beforeAll(async () => {
    tokens = await startTokenService({
      registryHost: plain.host,
      username: 'alice',
      password: 's3cret:with:colons',
      identityToken: 'refresh-me',
    });
  });
  afterAll(() => tokens?.stop());

  it('signs, pushes and pulls with the token the credentials buy; without or with wrong credentials: ACCESS_DENIED', async () => {
    await orasPush(plain.host, 'private/model:v1', model(), dir);
    const reference = `oci://${tokens.host}/private/model:v1`;
    const configDir = await tempDir('docker');
    const dockerConfig = writeDockerConfig(configDir, tokens.host, 'alice', 's3cret:with:colons');
    const signed = await signOciManifest({ reference, signer: keys.signer, plainHttp: true, dockerConfig });
    expect(signed.pushed).toBeDefined();
    const output = path.join(await tempDir('private'), 'out');
    await pullVerifiedModel({ reference, verifier: keys.verifier, outputDir: output, plainHttp: true, dockerConfig });
    expect(await listTree(output)).toHaveLength(4);
    const granted = tokens.requests.filter((r) => r.kind === 'token');
    expect(granted.every((r) => r.kind === 'token' && r.user === 'alice' && r.service === 'oci-test')).toBe(true);
    expect(granted.flatMap((r) => (r.kind === 'token' ? r.scopes : []))).toEqual(
      expect.arrayContaining(['repository:private/model:pull', 'repository:private/model:pull,push']),
    );
    // Credentials given directly work too; none, or wrong ones, are refused.
    await verifyOciModel({
      reference,
      verifier: keys.verifier,
      plainHttp: true,
      dockerConfig: false,
      credentials: { username: 'alice', password: 's3cret:with:colons' },
    });
    const none = await expectCode(
      () => verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: path.join(configDir, 'absent.json') }),
      'ACCESS_DENIED',
    );
    expect(none.message).toContain('asks for credentials');
    const wrong = writeDockerConfig(path.join(configDir, 'wrong'), tokens.host, 'alice', 'guess');
    await expectCode(() => verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: wrong }), 'ACCESS_DENIED');
    // Every request the registry let through carried a token the service issued.
    expect(tokens.requests.some((r) => r.kind === 'registry' && r.allowed)).toBe(true);
  });

  it('takes credentials from a Docker credential helper (credHelpers, run as Docker runs it) and exchanges identity tokens', async () => {
    await orasPush(plain.host, 'private/helped:v1', model(), dir);
    const reference = `oci://${tokens.host}/private/helped:v1`;
    await signOciManifest({
      reference,
      signer: keys.signer,
      plainHttp: true,
      credentials: { username: 'alice', password: 's3cret:with:colons' },
    });
    const bin = await tempDir('helper');
    // Answers for the token service's host only, as a helper answers for the servers it knows.
    await fs.writeFile(
      path.join(bin, 'docker-credential-oms-test'),
      `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "${tokens.host}" ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret:with:colons"}' "$server"; else echo 'credentials not found in native keychain'; exit 1; fi\n`,
      { mode: 0o755 },
    );
    const config = path.join(bin, 'config.json');
    await fs.writeFile(config, JSON.stringify({ credHelpers: { [tokens.host]: 'oms-test' } }));
    const saved = process.env['PATH'];
    process.env['PATH'] = `${bin}:${saved ?? ''}`;
    try {
      await verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: config });
      // A helper with no credentials for this server: anonymous, so refused by this registry.
      await fs.writeFile(config, JSON.stringify({ credsStore: 'oms-test', auths: {} }));
      await expectCode(
        () =>
          verifyOciModel({
            reference: `oci://localhost:${tokens.host.split(':')[1]}/private/helped:v1`,
            verifier: keys.verifier,
            plainHttp: true,
            dockerConfig: config,
          }),
        'ACCESS_DENIED',
      );
      // A helper that is not installed is named.
      await fs.writeFile(config, JSON.stringify({ credsStore: 'not-installed' }));
      const missing = await expectCode(
        () => verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: config }),
        'NOT_FOUND',
      );
      expect(missing.message).toContain('docker-credential-not-installed');
    } finally {
      process.env['PATH'] = saved;
    }
    // Docker's identity token, exchanged at the token service for a token of the scopes asked.
    await fs.writeFile(config, JSON.stringify({ auths: { [tokens.host]: { identitytoken: 'refresh-me' } } }));
    await verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: config });
    expect(tokens.requests).toContainEqual(
      expect.objectContaining({ kind: 'token', user: '<identity token>', scopes: ['repository:private/helped:pull'] }),
    );
    await fs.writeFile(config, JSON.stringify({ auths: { [tokens.host]: { identitytoken: 'stale' } } }));
    await expectCode(() => verifyOciModel({ reference, verifier: keys.verifier, plainHttp: true, dockerConfig: config }), 'ACCESS_DENIED');
  });
});
