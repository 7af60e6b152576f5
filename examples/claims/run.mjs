#!/usr/bin/env node
// A model on a hub that carries, in one claims.jsonl, its OMS signature, a
// model card generated from its README, an evaluator's results signed with
// the evaluator's own key, and SLSA provenance naming the signed dataset it
// was trained on; then all of them verified where the model is used: the
// CLI on the downloaded copy, the hub download in a program, and
// transformers.js loading it for a pipeline, in Node and in a web page
// (headless Chromium, served as examples/transformers/browser/ serves its page);
// and a trust policy (docs/policy.md) requiring the publisher's signature and
// the evaluator's accuracy of at least 0.9, which the CLI's download, the hub
// download, transformers.js (Node and Chromium) and ONNX Runtime enforce: the model is
// accepted, and refused with the explanation once the threshold is 0.95.
//
// This script plays every party: the publisher (signs a dataset, writes the
// model card and provenance, uploads), the evaluator (attests its results
// with another key), the hub (on 127.0.0.1: nothing leaves the machine) and
// the user. Run from the repository root after building, with Chromium at
// /usr/bin/chromium (scripts/setup-browser.sh):
//
//   pnpm install && pnpm build
//   node examples/claims/run.mjs
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';
import { PolicyDeniedError, formatDecision, loadPolicy } from '@model-signing/core';
import { downloadVerifiedModel } from '@model-signing/hf-hub';
import { FakeHub } from '@model-signing/hf-hub/testing';
import { createVerifiedSession } from '@model-signing/onnx';
import { configureVerifiedLoading } from '@model-signing/transformers';
import ort from 'onnxruntime-node';
import { importTs } from '../transformers/import-ts.mjs';
import { openPage } from '../transformers/browser/page-server.mjs';

const OMS = 'https://model_signing/signature/v1.0';
const CYCLONEDX = 'https://cyclonedx.org/bom';
const TEST_RESULT = 'https://in-toto.io/attestation/test-result/v0.1';
const SLSA = 'https://slsa.dev/provenance/v1';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'claims-example-'));
const hub = await FakeHub.start();
const repo = 'demo/tiny-bert';
const connection = { hubUrl: hub.url, accessToken: 'hf_local_demo' };
const problems = [];
let page;
/** Records what did not turn out as this example says it does; the exit code is 1 if anything did not. */
const expect = (ok, what) => {
  if (!ok) {
    problems.push(what);
    console.log(`!! ${what}`);
  }
};

// The CLI as a user runs it (the package's bin); each command is shown with its output.
const cliBin = path.join(path.dirname(createRequire(import.meta.url).resolve('@model-signing/cli/package.json')), 'dist/bin.js');
const shown = (text) => text.replaceAll(work, '$WORK');
// Its hash records (sign keeps one per model, docs/incremental.md) go to the work folder, not the user's cache.
const cliEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: path.join(work, 'xdg-cache') };
const runCli = (args) => promisify(execFile)(process.execPath, [cliBin, ...args], { env: cliEnv });
async function cli(...args) {
  console.log(`$ model-signing ${shown(args.join(' '))}`);
  const { stdout, stderr } = await runCli(args);
  const out = shown(`${stdout}${stderr}`).trimEnd();
  if (out) console.log(out.replace(/^/gm, '  '));
  return stdout;
}
/** A command that must fail (exit 1): shown with its output; returns what it printed. */
cli.refused = async (...args) => {
  console.log(`$ model-signing ${shown(args.join(' '))}`);
  const outcome = await runCli(args).then(
    () => ({ code: 0, output: '' }),
    (err) => ({ code: err.code, output: `${err.stdout}${err.stderr}` }),
  );
  console.log(`${shown(outcome.output).trimEnd().replace(/^/gm, '  ')}\n  (exit ${outcome.code})`);
  expect(outcome.code === 1, `model-signing ${args[0]} was refused (exit ${outcome.code})`);
  return outcome.output;
};

/** The claims as [line, predicate type, verified] for comparing with what is expected. */
const summary = (claims) => claims.map((c) => [c.line, c.predicateType, c.verified]);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
/** Claims a loader returns under the policy, as [line, predicate type, the requirement each met]. */
const met = (claims) => claims.map((c) => [c.line, c.predicateType, c.requirement]);
const REQUIREMENTS_MET = [
  [1, CYCLONEDX, 'model card'],
  [2, TEST_RESULT, 'test run'],
  [3, CYCLONEDX, 'accuracy'],
  [4, SLSA, 'trained on the signed dataset'],
];

try {
  // 1. Two parties, two keys: the publisher's and the evaluator's (PEM files, as the CLI takes them).
  const keys = {};
  for (const party of ['publisher', 'evaluator']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys[party] = { privateKey: path.join(work, `${party}.pem`), publicKey: path.join(work, `${party}.pub`) };
    await fs.writeFile(keys[party].privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await fs.writeFile(keys[party].publicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  }

  // 2. The training data: a dataset is a directory of files, signed as a model is.
  const dataset = path.join(work, 'greetings-dataset');
  await fs.mkdir(path.join(dataset, 'train'), { recursive: true });
  await fs.writeFile(path.join(dataset, 'train', 'part-0.jsonl'), '{"text": "hello world", "label": 1}\n');
  await fs.writeFile(path.join(dataset, 'test.jsonl'), '{"text": "signed models", "label": 1}\n');
  console.log('\n# The publisher signs the dataset');
  // Its signature beside it, not in it: a dataset's own files are what it is.
  const datasetSignature = path.join(work, 'greetings-dataset.sig');
  await cli('sign', 'key', dataset, '--private-key', keys.publisher.privateKey, '--signature', datasetSignature);
  const datasetDigest = (await cli('digest', dataset)).trim();

  // 3. The model: a tiny BERT in transformers.js's layout, and its Hugging Face model card (README.md).
  const { tinyBertFiles, expectedEmbedding, VOCAB } = await importTs('packages/transformers/test/fixtures/tiny-bert.ts', work);
  const model = path.join(work, 'tiny-bert');
  for (const [name, bytes] of Object.entries(tinyBertFiles())) {
    await fs.mkdir(path.dirname(path.join(model, name)), { recursive: true });
    await fs.writeFile(path.join(model, name), bytes);
  }
  await fs.writeFile(
    path.join(model, 'README.md'),
    `---
license: apache-2.0
language: [en]
datasets: [greetings-dataset]
pipeline_tag: feature-extraction
tags: [demo]
model-index:
  - name: tiny-bert
    results:
      - task: {type: text-classification}
        dataset: {type: greetings-dataset, name: Greetings, split: test}
        metrics:
          - {type: accuracy, value: 0.93}
---
# tiny-bert

A four-dimensional BERT for demonstrations.
`,
  );
  const claims = path.join(model, 'claims.jsonl');
  /** `model-signing attest` by one party, appending to the model's claims.jsonl. */
  const attest = (party, ...predicate) =>
    cli('attest', 'key', model, '--private-key', keys[party].privateKey, '--signature', claims, ...predicate);

  // 4. The claims, each appended to the model's claims.jsonl and bound to the model's root digest.
  console.log('\n# The publisher attests the model card, generated from the README');
  await attest('publisher', '--model-card', path.join(model, 'README.md'));

  console.log("\n# The evaluator attests its test run and the accuracy it measured, with the evaluator's key");
  const results = path.join(work, 'results.json');
  await fs.writeFile(
    results,
    JSON.stringify({
      result: 'PASSED',
      configuration: [{ name: 'greetings-eval.yaml', digest: { sha256: 'e'.repeat(64) } }],
      passedTests: ['accuracy on greetings/test'],
    }),
  );
  await attest('evaluator', '--eval', results);
  // Numbers belong in a CycloneDX model card's metrics (in-toto's test result has none): the evaluator's own measurement.
  const metrics = path.join(work, 'measured.json');
  await fs.writeFile(
    metrics,
    JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: {
        component: {
          type: 'machine-learning-model',
          name: 'tiny-bert',
          modelCard: { quantitativeAnalysis: { performanceMetrics: [{ type: 'accuracy', value: '0.92', slice: 'greetings (test)' }] } },
        },
      },
    }),
  );
  await attest('evaluator', '--model-card', metrics);

  console.log('\n# The publisher attests how the model was trained: SLSA provenance naming the dataset by its root digest');
  const provenance = path.join(work, 'slsa.json');
  await fs.writeFile(
    provenance,
    JSON.stringify({
      buildDefinition: { buildType: 'https://example.com/fine-tune/v1', externalParameters: { epochs: 3, base: 'tiny-bert-base' } },
      runDetails: { builder: { id: 'https://example.com/trainer' } },
    }),
  );
  await attest('publisher', '--provenance', provenance, '--dataset', dataset);

  // 5. Sign on upload: the OMS signature is appended to the claims, and the files and claims.jsonl land in one commit.
  console.log('\n# The publisher signs and uploads; claims.jsonl is the signature');
  hub.createRepo(repo);
  await cli(
    'hf',
    'upload',
    'key',
    model,
    repo,
    '--private-key',
    keys.publisher.privateKey,
    '--signature',
    'claims.jsonl',
    '--endpoint',
    hub.url,
    '--token',
    'hf_local_demo',
  );
  const expected = [
    [1, CYCLONEDX, true],
    [2, TEST_RESULT, true],
    [3, CYCLONEDX, true],
    [4, SLSA, true],
    [5, OMS, true],
  ];

  // 6. A user downloads it verified with the CLI, then checks every claim on the downloaded copy.
  console.log('\n# A user downloads it verified, then checks the claims on the copy');
  const cacheDir = path.join(work, 'hf-cache');
  const snapshot = (
    await cli(
      'hf',
      'download',
      'key',
      repo,
      '--public-key',
      keys.publisher.publicKey,
      '--signature',
      'claims.jsonl',
      '--cache-dir',
      cacheDir,
      '--endpoint',
      hub.url,
      '--token',
      'hf_local_demo',
    )
  ).trim();
  // The snapshot links into the cache's blobs, as huggingface_hub lays it out; a copy is a plain folder.
  const copy = path.join(work, 'downloaded-copy');
  await fs.cp(snapshot, copy, { recursive: true, dereference: true });
  const verifyArgs = [
    'verify',
    'key',
    copy,
    '--signature',
    path.join(copy, 'claims.jsonl'),
    '--public-key',
    keys.publisher.publicKey,
    '--claims',
    '--claims-public-key',
    keys.evaluator.publicKey,
  ];
  await cli(...verifyArgs);
  const verified = JSON.parse((await runCli([...verifyArgs, '--json'])).stdout);
  expect(same(summary(verified.claims.claims), expected), `verify --claims: ${JSON.stringify(summary(verified.claims.claims))}`);
  const dependency = verified.claims.claims[3].predicate.buildDefinition.resolvedDependencies?.[0];
  expect(`sha256:${dependency?.digest.sha256}` === datasetDigest, `the provenance names the dataset by its root digest (${datasetDigest})`);
  console.log('\n# The dataset the provenance names verifies with its own signature, and its root digest is that one');
  await cli('verify', 'key', dataset, '--signature', datasetSignature, '--public-key', keys.publisher.publicKey);

  // 7. A trust policy: the publisher must sign, and the claims must hold: the publisher's model card, the
  //    evaluator's passing test run and measured accuracy of at least 0.9, and provenance naming this dataset.
  const policyText = (threshold) => `version: 1
authorities:
  publisher: { key: { file: publisher.pub } }
  evaluator: { key: { file: evaluator.pub } }
rules:
  - name: evaluated demo models
    match: { huggingface: "demo/*" }
    require:
      signatures: { by: [publisher] }
      claims:
        - name: model card
          predicateType: ${CYCLONEDX}
          by: [publisher]
        - name: test run
          predicateType: ${TEST_RESULT}
          by: [evaluator]
          condition: predicate.result == "PASSED"
        - name: accuracy
          predicateType: ${CYCLONEDX}
          by: [evaluator]
          condition: >-
            predicate.metadata.component.modelCard.quantitativeAnalysis.performanceMetrics
              .exists(m, m.type == "accuracy" && double(m.value) >= ${threshold})
        - name: trained on the signed dataset
          predicateType: ${SLSA}
          by: [publisher]
          condition: predicate.buildDefinition.resolvedDependencies.exists(d, d.digest.sha256 == "${datasetDigest.replace('sha256:', '')}")
`;
  const policyPath = path.join(work, 'policy.yaml');
  const strictPath = path.join(work, 'policy-0.95.yaml');
  await fs.writeFile(policyPath, policyText(0.9));
  await fs.writeFile(strictPath, policyText(0.95));
  console.log('\n# The user states once what a model must carry (policy.yaml), and downloads under it');
  await cli('policy', 'check', policyPath);
  const policyArgs = (file, cache) => [
    'hf',
    'download',
    '--policy',
    file,
    repo,
    '--signature',
    'claims.jsonl',
    '--cache-dir',
    path.join(work, cache),
    '--endpoint',
    hub.url,
    '--token',
    'hf_local_demo',
  ];
  await cli(...policyArgs(policyPath, 'hf-cache-policy'));
  console.log('\n# With the accuracy threshold raised to 0.95 (policy-0.95.yaml), the download is refused');
  const refused = await cli.refused(...policyArgs(strictPath, 'hf-cache-strict'));
  expect(/rule 'evaluated demo models' requires claim 'accuracy'/.test(refused), 'the CLI refusal names the rule and the requirement');

  // 8. In a program: the hub download enforces the policy and returns the claims that met it.
  console.log('\n# In a program: downloadVerifiedModel({ policy })');
  const downloaded = await downloadVerifiedModel({
    repo,
    policy: await loadPolicy(policyPath),
    signaturePath: 'claims.jsonl',
    cacheDir: path.join(work, 'hf-cache-2'),
    ...connection,
  });
  console.log(`downloaded ${downloaded.files.length} files, signature: line ${downloaded.source.line} of claims.jsonl`);
  console.log(shown(formatDecision(downloaded.policy.decision).join('\n')));
  for (const [line, type, requirement] of met(downloaded.claims)) console.log(`  claim on line ${line} <${type}> met '${requirement}'`);
  expect(same(met(downloaded.claims), REQUIREMENTS_MET), `downloadVerifiedModel's claims: ${JSON.stringify(met(downloaded.claims))}`);
  expect(downloaded.source.line === 5, 'the hub download verified the signature on line 5');
  try {
    await downloadVerifiedModel({
      repo,
      policy: await loadPolicy(strictPath),
      signaturePath: 'claims.jsonl',
      cacheDir: path.join(work, 'hf-cache-3'),
      ...connection,
    });
    expect(false, 'the download under the 0.95 threshold was accepted');
  } catch (err) {
    if (!(err instanceof PolicyDeniedError)) throw err;
    const left = await fs.readdir(path.join(work, 'hf-cache-3'), { recursive: true, withFileTypes: true }).catch(() => []);
    expect(
      left.every((e) => e.isDirectory()),
      'nothing of the refused download is left in its cache',
    );
    console.log(`under policy-0.95.yaml: refused [${err.code}], nothing downloaded:\n${shown(err.message).replace(/^/gm, '  ')}`);
  }

  const want = expectedEmbedding(['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => VOCAB.indexOf(t)));
  const isWanted = (embedding) => embedding.length === want.length && embedding.every((v, i) => Math.abs(v - want[i]) < 1e-5);

  // 9. transformers.js in Node under the same policy: the pipeline receives only files that match the signature on line 5.
  console.log('\n# transformers.js: configureVerifiedLoading({ policy }), then a pipeline that loads only signed bytes');
  const embedInNode = async (policyFile, cache) => {
    const loading = await configureVerifiedLoading({
      env,
      repo,
      revision: downloaded.commit,
      hubUrl: hub.url,
      signaturePath: 'claims.jsonl',
      policy: await loadPolicy(policyFile),
      cacheDir: path.join(work, cache),
    });
    try {
      const extractor = await pipeline('feature-extraction', repo, { revision: downloaded.commit });
      const output = await extractor('Hello signed models.', { pooling: 'mean', normalize: true });
      await extractor.dispose();
      return { loading, embedding: output.tolist()[0] };
    } finally {
      loading.restore();
    }
  };
  const inNode = await embedInNode(policyPath, 'verified-cache');
  console.log(
    `signature: line ${inNode.loading.source.line} of claims.jsonl; embedding: ${inNode.embedding.map((v) => v.toFixed(4)).join(', ')}`,
  );
  for (const [line, type, requirement] of met(inNode.loading.claims)) console.log(`  claim on line ${line} <${type}> met '${requirement}'`);
  expect(isWanted(inNode.embedding), 'the embedding of the signed model');
  expect(inNode.loading.source.line === 5, `transformers.js verified line 5: ${JSON.stringify(inNode.loading.source)}`);
  expect(same(met(inNode.loading.claims), REQUIREMENTS_MET), `transformers.js's claims: ${JSON.stringify(met(inNode.loading.claims))}`);
  await embedInNode(strictPath, 'verified-cache-strict').then(
    () => expect(false, 'transformers.js loaded the model under the 0.95 threshold'),
    (err) => {
      if (!(err instanceof PolicyDeniedError)) throw err;
      console.log(
        `under policy-0.95.yaml: refused [${err.code}] before transformers.js read a file:\n${shown(err.message).replace(/^/gm, '  ')}`,
      );
    },
  );

  // 10. ONNX Runtime in Node, on the downloaded copy, under the same policy: the rule matches how it was
  //     addressed (the hub repo at its commit), and onnxruntime receives only checked bytes.
  console.log('\n# ONNX Runtime: createVerifiedSession({ policy }) on the downloaded copy');
  const onnxUnder = async (policyFile) => {
    let verified;
    const session = await createVerifiedSession({
      modelPath: copy,
      modelFile: 'onnx/model.onnx',
      signaturePath: path.join(copy, 'claims.jsonl'),
      policy: await loadPolicy(policyFile),
      model: { kind: 'huggingface', repo, revision: downloaded.commit },
      onVerified: (model) => (verified = model),
    });
    try {
      const ids = ['[CLS]', 'hello', 'signed', 'model', '##s', '.', '[SEP]'].map((t) => BigInt(VOCAB.indexOf(t)));
      const tensor = (values) => new ort.Tensor('int64', BigInt64Array.from(values), [1, values.length]);
      const { last_hidden_state: out } = await session.run({
        input_ids: tensor(ids),
        token_type_ids: tensor(ids.map(() => 0n)),
        attention_mask: tensor(ids.map(() => 1n)),
      });
      // What the pipeline computes: the mean over the tokens, normalised.
      const [, tokens, hidden] = out.dims;
      const mean = Array.from(
        { length: hidden },
        (_, h) => Array.from({ length: tokens }, (_, t) => out.data[t * hidden + h]).reduce((a, b) => a + b) / tokens,
      );
      const norm = Math.hypot(...mean);
      return { verified, embedding: mean.map((v) => v / norm) };
    } finally {
      await session.release();
    }
  };
  const inOnnx = await onnxUnder(policyPath);
  console.log(
    `signature: line ${inOnnx.verified.source.line} of claims.jsonl; checked ${inOnnx.verified.files.join(', ')}; embedding: ${inOnnx.embedding.map((v) => v.toFixed(4)).join(', ')}`,
  );
  for (const [line, type, requirement] of met(inOnnx.verified.claims))
    console.log(`  claim on line ${line} <${type}> met '${requirement}'`);
  expect(isWanted(inOnnx.embedding), 'the embedding from ONNX Runtime');
  expect(same(met(inOnnx.verified.claims), REQUIREMENTS_MET), `ONNX's claims: ${JSON.stringify(met(inOnnx.verified.claims))}`);
  await onnxUnder(strictPath).then(
    () => expect(false, 'ONNX Runtime loaded the model under the 0.95 threshold'),
    (err) => {
      if (!(err instanceof PolicyDeniedError)) throw err;
      console.log(`under policy-0.95.yaml: refused [${err.code}], no session created:\n${shown(err.message).replace(/^/gm, '  ')}`);
    },
  );

  // 11. The same in a web page: transformers.js's web build in headless Chromium, the policy made there (createPolicy).
  console.log('\n# transformers.js in Chromium, under the same policies');
  page = await openPage({ entry: path.join(here, 'page.js'), hubUrl: hub.url });
  const keyFiles = {};
  for (const party of ['publisher', 'evaluator']) keyFiles[`${party}.pub`] = await fs.readFile(keys[party].publicKey, 'utf8');
  const loadInBrowser = async (policyFile) =>
    page.tab.evaluate((params) => window.page.load(params), {
      hubUrl: `${page.origin}hub`,
      repo,
      revision: downloaded.commit,
      policyName: path.basename(policyFile),
      policyText: await fs.readFile(policyFile, 'utf8'),
      keyFiles,
    });
  const inBrowser = await loadInBrowser(policyPath);
  if (inBrowser.ok) {
    console.log(
      `signature: line ${inBrowser.source.line} of claims.jsonl; embedding: ${inBrowser.embedding.map((v) => v.toFixed(4)).join(', ')}`,
    );
    for (const [line, type, requirement] of met(inBrowser.claims)) console.log(`  claim on line ${line} <${type}> met '${requirement}'`);
  }
  expect(inBrowser.ok, `the page loaded the model: ${inBrowser.code} ${inBrowser.message}`);
  expect(same(met(inBrowser.claims ?? []), REQUIREMENTS_MET), `claims in Chromium: ${JSON.stringify(met(inBrowser.claims ?? []))}`);
  expect(inBrowser.source?.line === 5, 'Chromium verified line 5');
  expect(isWanted(inBrowser.embedding ?? []), 'the embedding of the signed model in Chromium');
  const strictInBrowser = await loadInBrowser(strictPath);
  expect(!strictInBrowser.ok && strictInBrowser.code === 'POLICY_DENIED', 'the page refused the model under the 0.95 threshold');
  if (!strictInBrowser.ok) console.log(`under policy-0.95.yaml: refused [${strictInBrowser.code}]:\n  ${strictInBrowser.message}`);
} finally {
  await page?.close();
  await hub.close();
  // transformers.js does not await every cache write it starts: retry instead of failing on ENOTEMPTY.
  await fs.rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
console.log(
  problems.length === 0
    ? '\nDone: every claim verified everywhere, and every loader enforced the policy.'
    : `\n${problems.length} problem(s).`,
);
process.exit(problems.length === 0 ? 0 : 1);
