import { createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto } from '../../../test-fixtures/moto.mjs';
import { issueLeaf, makeCertificateAuthority } from '../../../test-fixtures/pki.mjs';
import { createSoftHsmToken } from '../../../test-fixtures/softhsm.mjs';
import { startMockInstance, testIdentityToken, type MockInstance } from '../../core/test/sigstore/mock-instance.js';
import { certificateSignerFlags, ok } from '../../../test-fixtures/cli-runs.mjs';
import {
  REFERENCE_CLI,
  REPO_ROOT,
  cleanupTempDirs,
  makeTrickyModel,
  ours,
  reference,
  tempDir,
  writeKeyPair,
  type RunResult,
} from './helpers.js';

// claims.jsonl through the CLI: sign and attest append to it, verify --claims
// and claims show it, and the Python reference reads what we write (and we
// what it writes: the fixture from its pending PR #591).

const FIXTURE = path.join(REPO_ROOT, 'test-fixtures/vectors/claims-jsonl');
const ISSUER = 'https://issuer.example.com';
const EMAIL = 'builder@example.com';

const README = `---
license: apache-2.0
language: [en]
datasets: [my-dataset]
base_model: org/base-model
pipeline_tag: text-classification
tags: [demo]
model-index:
  - name: tiny-classifier
    results:
      - task: {type: text-classification}
        dataset: {type: my-dataset, name: My Dataset, split: test}
        metrics:
          - {type: accuracy, value: 0.91}
---
# tiny-classifier
`;

const TEST_RESULT = {
  result: 'PASSED',
  configuration: [{ name: 'eval.yaml', digest: { sha256: 'e'.repeat(64) } }],
  passedTests: ['accuracy >= 0.9'],
};

const PROVENANCE = {
  buildDefinition: { buildType: 'https://example.com/training/v1', externalParameters: { epochs: 2 } },
  runDetails: { builder: { id: 'https://example.com/trainer' } },
};

let work: string;
/** An evaluation result (TEST_RESULT) as a file, for `attest --eval`. */
let results: string;
let owner: { privateKey: string; publicKey: string };
let evaluator: { privateKey: string; publicKey: string };
let instance: MockInstance;

/** `attest key MODEL --private-key KEY --signature CLAIMS --eval results.json`: the evaluation result signed by `privateKey`, appended to `claims`. */
function attestEvaluation(model: string, privateKey: string, claims: string): Promise<RunResult> {
  return ours(['attest', 'key', model, '--private-key', privateKey, '--signature', claims, '--eval', results]);
}

beforeAll(async () => {
  await fs.access(REFERENCE_CLI).catch(() => {
    throw new Error(`The reference CLI is missing at ${REFERENCE_CLI}; run scripts/setup-reference.sh`);
  });
  work = await tempDir('oms-cli-claims-');
  // Hash records go here, not to the user's cache.
  process.env['XDG_CACHE_HOME'] = path.join(work, 'cache');
  results = path.join(work, 'results.json');
  await fs.writeFile(results, JSON.stringify(TEST_RESULT));
  owner = await writeKeyPair(work, 'P-256');
  evaluator = await writeKeyPair(await fs.mkdtemp(path.join(work, 'evaluator-')), 'P-384');
  instance = await startMockInstance();
});
afterAll(async () => {
  await instance.close();
  await cleanupTempDirs();
});

async function makeModel(name: string): Promise<string> {
  const model = path.join(work, name);
  await fs.mkdir(model);
  await fs.writeFile(path.join(model, 'README.md'), README);
  await fs.writeFile(path.join(model, 'model.safetensors'), 'W'.repeat(4096));
  await fs.writeFile(path.join(model, 'config.json'), '{"labels":2}');
  return model;
}

describe('the reference claims.jsonl fixture', () => {
  it.each([
    ['k1.pub', 1],
    ['k2.pub', 2],
  ])('verify --signature claims.jsonl with %s matches line %i, as the reference prints it', async (key, line) => {
    const claimsFile = path.join(FIXTURE, 'claims.jsonl');
    const result = await ours([
      'verify',
      'key',
      path.join(FIXTURE, 'model'),
      '--signature',
      claimsFile,
      '--public-key',
      path.join(FIXTURE, key),
    ]);
    ok(result, 'our verify');
    expect(result.stdout).toBe(`Verification succeeded (matched line ${line} of ${claimsFile})\n`);
    const json = JSON.parse(
      (
        await ours([
          'verify',
          'key',
          path.join(FIXTURE, 'model'),
          '--signature',
          claimsFile,
          '--public-key',
          path.join(FIXTURE, key),
          '--json',
        ])
      ).stdout,
    );
    expect(json.signatureSource).toEqual({ layout: 'claims', line, lines: 2, warnings: [] });
  });
});

describe('a model with its signature, a model card, an evaluation by another party and provenance naming a signed dataset', () => {
  it('verify --claims shows all four verified; claims lists them; a missing verifier leaves one unverified', async () => {
    const model = await makeModel('full');
    const claims = path.join(model, 'claims.jsonl');
    const dataset = path.join(work, 'dataset');
    await fs.mkdir(path.join(dataset, 'train'), { recursive: true });
    await fs.writeFile(path.join(dataset, 'train', 'part-0.jsonl'), '{"text":"good","label":1}\n');
    await fs.writeFile(path.join(dataset, 'test.jsonl'), '{"text":"bad","label":0}\n');
    // The dataset is signed as a model is: it is a directory of files.
    ok(
      await ours(['sign', 'key', dataset, '--private-key', owner.privateKey, '--signature', path.join(work, 'dataset.sig')]),
      'sign dataset',
    );
    const datasetDigest = (await ours(['digest', dataset])).stdout.trim();

    ok(await ours(['sign', 'key', model, '--private-key', owner.privateKey, '--signature', claims]), 'sign into claims.jsonl');
    const card = await ours([
      'attest',
      'key',
      model,
      '--private-key',
      owner.privateKey,
      '--signature',
      claims,
      '--model-card',
      path.join(model, 'README.md'),
    ]);
    ok(card, 'attest model card');
    expect(card.stdout).toMatch(
      /^Attested: appended to .*claims\.jsonl with a model card <https:\/\/cyclonedx\.org\/bom> about full \(sha256:[0-9a-f]{64}\)\n$/,
    );
    ok(await attestEvaluation(model, evaluator.privateKey, claims), 'attest eval');
    await fs.writeFile(path.join(work, 'slsa.json'), JSON.stringify(PROVENANCE));
    const token = testIdentityToken({ iss: ISSUER, email: EMAIL });
    ok(
      await ours([
        'attest',
        'sigstore',
        model,
        '--identity-token',
        token,
        '--trust-config',
        instance.trustConfigPath,
        '--signature',
        claims,
        '--provenance',
        path.join(work, 'slsa.json'),
        '--dataset',
        dataset,
      ]),
      'attest provenance keyless',
    );

    const verifyArgs = [
      'verify',
      'key',
      model,
      '--signature',
      claims,
      '--public-key',
      owner.publicKey,
      '--claims',
      '--claims-public-key',
      evaluator.publicKey,
    ];
    const sigstoreArgs = [
      '--claims-identity',
      EMAIL,
      '--claims-identity-provider',
      ISSUER,
      '--claims-trust-config',
      instance.trustConfigPath,
    ];
    const human = await ours([...verifyArgs, ...sigstoreArgs]);
    ok(human, 'verify --claims');
    expect(human.stdout).toContain(`Verification succeeded (matched line 1 of ${claims})`);
    expect(human.stdout).toContain('Claims in');
    expect(human.stdout).toContain(': 4 (4 verified)');
    expect(human.stdout).toContain('    model card of: tiny-classifier');
    expect(human.stdout).toContain('      accuracy = 0.91 on My Dataset (my-dataset, test)');
    expect(human.stdout).toContain('    result: PASSED (1 passed, 0 warned, 0 failed)');
    expect(human.stdout).toContain(`    input: dataset ${datasetDigest}`);
    expect(human.stdout).toContain(`by ${EMAIL} (${ISSUER})`);

    const json = JSON.parse((await ours([...verifyArgs, ...sigstoreArgs, '--json'])).stdout);
    expect(json.claims.claims.map((c: any) => [c.line, c.predicateType, c.verified, c.signer.method])).toEqual([
      [1, 'https://model_signing/signature/v1.0', true, 'key'],
      [2, 'https://cyclonedx.org/bom', true, 'key'],
      [3, 'https://in-toto.io/attestation/test-result/v0.1', true, 'key'],
      [4, 'https://slsa.dev/provenance/v1', true, 'sigstore'],
    ]);
    expect(json.claims.claims[3].predicate.buildDefinition.resolvedDependencies).toEqual([
      { name: 'dataset', digest: { sha256: datasetDigest.replace('sha256:', '') } },
    ]);

    // Without the evaluator's key and the builder's identity, their claims are listed, unverified, with the reason.
    const partial = JSON.parse((await ours(['claims', model, '--signature', claims, '--public-key', owner.publicKey, '--json'])).stdout);
    expect(partial.claims.map((c: any) => [c.line, c.verified, c.failure?.code])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, false, 'KEY_MISMATCH'],
      [4, false, 'NOT_CHECKED'],
    ]);
    expect(partial.skipped).toEqual([]);

    // The claims file inside the model is no model file, and every signature records it
    // as ignored: the reference verifies a model.sig of this model with it inside.
    ok(await ours(['sign', 'key', model, '--private-key', owner.privateKey, '--signature', path.join(work, 'full.sig')]), 'sign model.sig');
    ok(
      await reference(['verify', 'key', model, '--signature', path.join(work, 'full.sig'), '--public_key', owner.publicKey]),
      'reference verifies with claims.jsonl inside',
    );
  });

  it('attest signs with certificates and PKCS#11 keys too', async () => {
    const model = await makeModel('methods');
    const claims = path.join(work, 'methods.jsonl');
    const ca = makeCertificateAuthority(path.join(work, 'ca'));
    const leaf = issueLeaf(path.join(work, 'ca'), ca, { name: 'evaluator' });
    const evalArgs = ['--signature', claims, '--eval', results];
    ok(
      await ours(['attest', 'certificate', model, ...certificateSignerFlags(leaf, ca.intermediateCert), ...evalArgs]),
      'attest certificate',
    );
    const token = createSoftHsmToken(path.join(work, 'hsm'));
    token.generateKey('P-256', '01', 'claims-key');
    const tokenKey = token.exportPublicKey('01', path.join(work, 'token.pub'));
    const uri = `pkcs11:token=${token.label};object=claims-key?pin-value=${token.pin}&module-path=${token.module}`;
    ok(await ours(['attest', 'pkcs11-key', model, '--pkcs11-uri', uri, ...evalArgs]), 'attest pkcs11-key');

    const listed = JSON.parse(
      (await ours(['claims', model, '--signature', claims, '--certificate-chain', ca.rootCert, '--public-key', tokenKey, '--json'])).stdout,
    );
    expect(listed.claims.map((c: any) => [c.signer.method, c.verified])).toEqual([
      ['certificate', true],
      ['key', true],
    ]);
  });
});

describe('attest with a key in AWS KMS', () => {
  it('signs the claim through KMS (moto on loopback); the claim verifies with the key KMS returns', async () => {
    const moto = await startMoto();
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const kms = new KMSClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials });
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: KeyMetadata!.KeyId! }));
      const publicKey = path.join(work, 'kms.pub');
      await fs.writeFile(
        publicKey,
        createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }),
      );
      // The CLI finds KMS as users' tools do: the standard AWS environment variables.
      Object.assign(process.env, {
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_KMS: moto.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      });
      const model = await makeModel('kms');
      const claims = path.join(work, 'kms.jsonl');
      ok(await attestEvaluation(model, `kms://aws/${KeyMetadata!.KeyId!}`, claims), 'attest with KMS');
      const listed = JSON.parse((await ours(['claims', model, '--signature', claims, '--public-key', publicKey, '--json'])).stdout);
      expect(listed.claims.map((c: any) => [c.signer.method, c.verified])).toEqual([['key', true]]);
    } finally {
      kms.destroy();
      await moto.stop();
    }
  });
});

describe('interoperability with the reference (model_signing 1.1.1)', () => {
  it('a one-line claims file we write is one bundle the reference verifies', async () => {
    const model = await makeTrickyModel(work, 'interop-one-line');
    const claims = path.join(work, 'interop-claims.jsonl');
    const signed = await ours(['sign', 'key', model, '--private-key', owner.privateKey, '--signature', claims]);
    ok(signed, 'our sign');
    expect(signed.stdout).toMatch(/^Signing succeeded: created /);
    expect((await fs.readFile(claims, 'utf8')).split('\n')).toHaveLength(2); // one line, newline-terminated
    ok(await reference(['verify', 'key', model, '--signature', claims, '--public_key', owner.publicKey]), 'reference verify');
  });

  it('signature and claims files added to a model after the reference signed it do not fail our verification', async () => {
    const model = await makeModel('reference-signed');
    const sig = path.join(work, 'reference.sig');
    ok(await reference(['sign', 'key', model, '--signature', sig, '--private_key', owner.privateKey]), 'reference sign');
    ok(await attestEvaluation(model, evaluator.privateKey, path.join(model, 'claims.jsonl')), 'attest');
    await fs.writeFile(path.join(model, 'upstream.sigstore.json'), '{}');
    ok(await ours(['verify', 'key', model, '--signature', sig, '--public-key', owner.publicKey]), 'our verify');
    // The evaluator's claim is about the same root digest the reference signed.
    const listed = JSON.parse(
      (
        await ours([
          'verify',
          'key',
          model,
          '--signature',
          sig,
          '--public-key',
          owner.publicKey,
          '--claims',
          '--claims-file',
          path.join(model, 'claims.jsonl'),
          '--claims-public-key',
          evaluator.publicKey,
          '--json',
        ])
      ).stdout,
    );
    expect(listed.claims.claims[0]).toMatchObject({ subjectMatch: true, verified: true });
  });

  it('a signature file present when we sign is recorded as ignored, so the reference verifies our signature', async () => {
    const model = await makeModel('with-old-sig');
    await fs.writeFile(path.join(model, 'old.sig'), 'an older signature');
    const sig = path.join(work, 'with-old.sig');
    ok(await ours(['sign', 'key', model, '--private-key', owner.privateKey, '--signature', sig]), 'our sign');
    const statement = JSON.parse(Buffer.from(JSON.parse(await fs.readFile(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString());
    expect(statement.predicate.serialization.ignore_paths).toEqual(expect.arrayContaining(['claims.jsonl', 'old.sig']));
    expect(statement.predicate.resources.map((r: { name: string }) => r.name)).not.toContain('old.sig');
    ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', owner.publicKey]), 'reference verify');
    // A claims file added afterwards is recorded too (claims.jsonl always is): the reference still verifies.
    ok(await attestEvaluation(model, owner.privateKey, path.join(model, 'claims.jsonl')), 'attest');
    ok(await reference(['verify', 'key', model, '--signature', sig, '--public_key', owner.publicKey]), 'reference verify after attest');
  });
});

describe('bad input through the CLI', () => {
  it('a README whose front matter is not YAML is BAD_MODEL_CARD; an invalid predicate is PREDICATE_INVALID; nothing is written', async () => {
    const model = await makeModel('bad-input');
    const claims = path.join(work, 'bad.jsonl');
    await fs.writeFile(path.join(work, 'BAD.md'), '---\nlicense: [mit\n---\n');
    const badCard = await ours([
      'attest',
      'key',
      model,
      '--private-key',
      owner.privateKey,
      '--signature',
      claims,
      '--model-card',
      path.join(work, 'BAD.md'),
    ]);
    expect(badCard.code).toBe(1);
    expect(badCard.stderr).toMatch(/^Attesting failed \[BAD_MODEL_CARD\]: Invalid model card: its metadata is not valid YAML/);
    await fs.writeFile(path.join(work, 'bad-eval.json'), JSON.stringify({ result: 'MAYBE', configuration: [] }));
    const badEval = await ours([
      'attest',
      'key',
      model,
      '--private-key',
      owner.privateKey,
      '--signature',
      claims,
      '--eval',
      path.join(work, 'bad-eval.json'),
      '--json',
    ]);
    expect(badEval.code).toBe(1);
    expect(JSON.parse(badEval.stdout).error).toMatchObject({ code: 'PREDICATE_INVALID', message: expect.stringContaining('/result') });
    await expect(fs.access(claims)).rejects.toThrow();
    // Usage: exactly one claim.
    expect((await ours(['attest', 'key', model, '--private-key', owner.privateKey, '--signature', claims])).code).toBe(2);
    expect((await attestEvaluation(model, owner.privateKey, path.join(work, 'x.sig'))).code).toBe(2);
  });

  it('claims --json lists skipped lines and a claim about another model', async () => {
    const model = await makeModel('skipped');
    const other = await makeModel('other-model');
    await fs.writeFile(path.join(other, 'model.safetensors'), 'other weights');
    const claims = path.join(work, 'skipped.jsonl');
    ok(await attestEvaluation(other, owner.privateKey, claims), 'attest other');
    await fs.appendFile(claims, 'not json\r\n{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}\n{"trunc');
    const listed = await ours(['claims', model, '--signature', claims, '--public-key', owner.publicKey, '--json']);
    ok(listed, 'claims');
    const json = JSON.parse(listed.stdout);
    expect(json.claims).toEqual([
      expect.objectContaining({
        line: 1,
        subjectMatch: false,
        verified: false,
        failure: expect.objectContaining({ code: 'SUBJECT_MISMATCH' }),
      }),
    ]);
    expect(json.skipped.map((w: any) => [w.code, w.line])).toEqual([
      ['CLAIM_NOT_JSON', 2],
      ['CLAIM_NOT_BUNDLE', 3],
      ['CLAIM_TRUNCATED', 4],
    ]);
    const human = await ours(['claims', model, '--signature', claims, '--public-key', owner.publicKey]);
    expect(human.stdout).toContain('subject is another model; NOT verified: line 1 is about sha256:');
    expect(human.stdout).toContain('skipped: line 4 is cut short');
  });

  it('attest and claims have help with examples', async () => {
    for (const args of [
      ['attest', '--help'],
      ['attest', 'key', '--help'],
      ['attest', 'sigstore', '--help'],
      ['claims', '--help'],
    ]) {
      const result = await ours(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Examples?:/);
    }
    expect((await ours(['verify', 'key', '--help'])).stdout).toContain('--claims-public-key');
  });
});
