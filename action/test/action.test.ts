import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startMoto } from '../../test-fixtures/moto.mjs';
import { startFakeOidcProvider, type FakeOidcProvider } from '../../packages/core/test/sigstore/fake-oidc.js';
import { startMockInstance, type MockInstance } from '../../packages/core/test/sigstore/mock-instance.js';
import { FakeHub } from '@model-signing/hf-hub/testing';

// The action as a runner runs it: the built bundle (dist/main.js) started
// with Node, its inputs as INPUT_* variables (the defaults of action.yml
// filled in, as the runner does), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
// files, and GitHub's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL and
// _TOKEN) served by a fake issuer on loopback; Sigstore is the mock instance
// on loopback, the Hugging Face Hub the loopback hub of the hf-hub tests.

const ACTION_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = path.resolve(ACTION_DIR, '..');
const MAIN = path.join(ACTION_DIR, 'dist', 'main.js');
const CLI = path.join(REPO_ROOT, 'packages/cli/dist/bin.js');
/** What the fake issuer's GitHub token says (the mock Fulcio certifies its `sub` as the identity). */
const ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const ACTIONS_SUBJECT = 'repo:org/model:ref:refs/heads/main';
const HUB_TOKEN = 'hf_action_test_token';

interface ActionMetadata {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, unknown>;
  runs: { using: string; main: string };
}
const metadata = parse(await fs.readFile(path.join(ACTION_DIR, 'action.yml'), 'utf8')) as ActionMetadata;

let work: string;
let oidc: FakeOidcProvider;
let sigstore: MockInstance;
let hub: FakeHub;
beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-action-'));
  oidc = await startFakeOidcProvider({ email: 'unused@example.com', clientId: 'sigstore', clientSecret: '' });
  sigstore = await startMockInstance();
  hub = await FakeHub.start({ token: HUB_TOKEN });
});
afterAll(async () => {
  await Promise.all([oidc.close(), sigstore.close(), hub.close()]);
  await fs.rm(work, { recursive: true, force: true });
});

interface ActionRun {
  code: number;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Runs dist/main.js as the runner would, with `inputs` (by their action.yml names) and extra environment. */
async function runAction(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  const step = await fs.mkdtemp(path.join(work, 'step-'));
  const outputFile = path.join(step, 'output');
  const summaryFile = path.join(step, 'summary.md');
  await fs.writeFile(outputFile, '');
  await fs.writeFile(summaryFile, '');
  for (const name of Object.keys(inputs)) expect(metadata.inputs, `action.yml declares no input ${name}`).toHaveProperty(name);
  const values = { ...Object.fromEntries(Object.entries(metadata.inputs).map(([name, input]) => [name, input.default ?? ''])), ...inputs };
  const base: NodeJS.ProcessEnv = {};
  // Nothing from the test's own environment that the action reads.
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(INPUT_|GITHUB_|ACTIONS_|SIGSTORE_|HF_|AWS_)/.test(key)) base[key] = value;
  }
  const childEnv = {
    ...base,
    ...Object.fromEntries(Object.entries(values).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    // The local hash records that signing and verifying keep.
    XDG_CACHE_HOME: path.join(step, 'cache'),
    ...env,
  };
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [MAIN], { cwd: work, env: childEnv, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: out + err }),
    );
  });
  return { code, stdout, outputs: parseOutputs(await fs.readFile(outputFile, 'utf8')), summary: await fs.readFile(summaryFile, 'utf8') };
}

/** GITHUB_OUTPUT's `name<<DELIMITER` … `DELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]] = match[3];
  return outputs;
}

/** GitHub's OIDC token endpoint, as the runner exposes it to a job with `id-token: write`. */
const actionsOidc = () => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: oidc.actionsRequestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.actionsRequestToken,
});

async function makeModel(name: string): Promise<string> {
  const dir = path.join(work, name);
  await fs.mkdir(path.join(dir, 'tokenizer'), { recursive: true });
  await fs.writeFile(path.join(dir, 'config.json'), '{"hidden_size": 8}');
  await fs.writeFile(path.join(dir, 'tokenizer', 'vocab.txt'), 'hello\nworld\n');
  await fs.writeFile(path.join(dir, 'model.safetensors'), Buffer.alloc(8192, 3));
  return dir;
}

/** Runs the CLI (the built bin) from `work`. */
function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: work }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout + stderr }),
    );
  });
}

/** The words of a `sh` command as the summary prints it (single-quoted words as the shell reads them). */
function shellWords(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]));
}

describe('the GitHub Action', () => {
  it('is a JavaScript action whose entry is the bundle this test runs', () => {
    expect(metadata.runs).toEqual({ using: 'node24', main: 'dist/main.js' });
  });

  it("signs keyless with the workflow's OIDC identity, prints the identity to pin, and that pin verifies", async () => {
    const model = await makeModel('keyless');
    const run = await runAction({ 'model-path': model, 'trust-config': sigstore.trustConfigPath }, actionsOidc());
    expect(run.code, run.stdout).toBe(0);
    // The token was asked of GitHub's endpoint for Sigstore's audience.
    expect(oidc.actionsAudiences).toContain('sigstore');
    expect(run.outputs).toMatchObject({
      signature: path.join(model, 'model.sig'),
      method: 'sigstore',
      identity: ACTIONS_SUBJECT,
      issuer: ACTIONS_ISSUER,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    for (const name of Object.keys(run.outputs)) expect(metadata.outputs, `action.yml declares no output ${name}`).toHaveProperty(name);
    expect(run.stdout).toContain(`Certificate identity: ${ACTIONS_SUBJECT}`);
    expect(run.stdout).toContain(`OIDC issuer: ${ACTIONS_ISSUER}`);

    // The step summary: what was signed, by whom, and the command that verifies it, pinned.
    expect(run.summary).toContain('<h3>Model signed</h3>');
    expect(run.summary).toContain(`<code>${run.outputs['digest']}</code>`);
    expect(run.summary).toContain(`<code>${ACTIONS_SUBJECT}</code>`);
    const commands = [...run.summary.matchAll(/<pre lang="sh"><code>([^<]*)<\/code><\/pre>/g)].map((m) =>
      m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
    );
    expect(commands[0]).toBe(
      `model-signing verify sigstore ${model} --signature ${run.outputs['signature']} --identity ${ACTIONS_SUBJECT} --identity-provider ${ACTIONS_ISSUER} --trust-config ${sigstore.trustConfigPath}`,
    );
    // Every command the summary gives verifies the model, word for word, with the CLI.
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const [program, ...args] = shellWords(command);
      expect(program).toBe('model-signing');
      const verified = await cli(args);
      expect(verified.code, `${command}\n${verified.out}`).toBe(0);
    }

    // The verify mode, pinned to the identity the sign step printed; another identity is refused.
    const pinned = { mode: 'verify', 'model-path': model, 'trust-config': sigstore.trustConfigPath, 'identity-provider': ACTIONS_ISSUER };
    const verified = await runAction({ ...pinned, identity: run.outputs['identity'] });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.outputs).toMatchObject({
      'verified-files': '3',
      identity: ACTIONS_SUBJECT,
      issuer: ACTIONS_ISSUER,
      digest: run.outputs['digest'],
    });
    expect(verified.summary).toContain('<h3>Model verified</h3>');
    const impostor = await runAction({ ...pinned, identity: 'repo:org/other:ref:refs/heads/main' });
    expect(impostor.code).toBe(1);
    expect(impostor.stdout).toMatch(/::error::Verification failed \[IDENTITY_MISMATCH\]/);

    await fs.appendFile(path.join(model, 'config.json'), ' ');
    const tampered = await runAction({ ...pinned, identity: ACTIONS_SUBJECT });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/::error::Verification failed \[DIGEST_MISMATCH\]: .*config\.json/);
  });

  it("fails the step, naming the permission, when the job cannot get the workflow's OIDC token", async () => {
    const model = await makeModel('no-token');
    const run = await runAction({ 'model-path': model, 'trust-config': sigstore.trustConfigPath });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Signing failed \[IDENTITY_TOKEN_ERROR\]: .*id-token: write/);
    await expect(fs.access(path.join(model, 'model.sig'))).rejects.toThrow();
  });

  it('signs with a key from a secret and uploads the model with its signature to the Hugging Face Hub in one commit', async () => {
    const model = await makeModel('hub');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicKey = path.join(work, 'hub-key.pub');
    await fs.writeFile(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    hub.createRepo('org/signed');
    const run = await runAction({
      'model-path': model,
      method: 'key',
      'private-key': privateKey,
      'hf-repo': 'org/signed',
      'hf-token': HUB_TOKEN,
      'hf-endpoint': hub.url,
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).not.toContain('PRIVATE KEY');
    expect(run.outputs['hf-commit']).toBe(hub.head('org/signed'));
    // (.gitattributes: the hub's own, made with the repo.)
    expect([...hub.files('org/signed').keys()].sort()).toEqual([
      '.gitattributes',
      'config.json',
      'model.safetensors',
      'model.sig',
      'tokenizer/vocab.txt',
    ]);
    expect(run.summary).toContain(`org/signed@${run.outputs['hf-commit'].slice(0, 12)}`);
    // The signature on the hub is the one written locally, and it verifies there and here.
    expect(hub.files('org/signed').get('model.sig')?.data.toString('utf8')).toBe(await fs.readFile(path.join(model, 'model.sig'), 'utf8'));
    const remote = await cli(['hf', 'verify', 'key', 'org/signed', '--public-key', publicKey, '--token', HUB_TOKEN, '--endpoint', hub.url]);
    expect(remote.code, remote.out).toBe(0);
    const verified = await runAction({ mode: 'verify', method: 'key', 'model-path': model, 'public-key': publicKey });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.outputs['verified-files']).toBe('3');
  });

  it('signs with an AWS KMS key (the AWS SDK inside the bundle), credentials from the AWS environment', async () => {
    const moto = await startMoto();
    const region = 'eu-west-1';
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const kms = new KMSClient({ region, endpoint: moto.endpoint, credentials });
    try {
      const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
      await kms.send(new CreateAliasCommand({ AliasName: 'alias/model-signing', TargetKeyId: KeyMetadata!.KeyId! }));
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/model-signing' }));
      const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }).export({
        type: 'spki',
        format: 'pem',
      });
      // As aws-actions/configure-aws-credentials leaves them for later steps.
      const aws = {
        AWS_REGION: region,
        AWS_ENDPOINT_URL_KMS: moto.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const model = await makeModel('kms');
      const run = await runAction({ 'model-path': model, method: 'key', 'private-key': 'kms://aws/alias/model-signing' }, aws);
      expect(run.code, run.stdout).toBe(0);
      const verified = await runAction({ mode: 'verify', method: 'key', 'model-path': model, 'public-key': publicKey.toString() });
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.outputs).toMatchObject({ 'verified-files': '3', digest: run.outputs['digest'] });
    } finally {
      kms.destroy();
      await moto.stop();
    }
  });

  it('reports a mistake in the inputs as a usage error', async () => {
    const model = await makeModel('usage');
    const cases: [Record<string, string>, RegExp][] = [
      [
        { mode: 'verify', 'identity-provider': ACTIONS_ISSUER },
        /verifying with the sigstore method needs one of the inputs identity and identity-regexp/,
      ],
      [{ mode: 'verify', method: 'certificate' }, /input certificate-chain is required to verify with the certificate method/],
      [{ method: 'key' }, /input private-key is required to sign with the key method/],
      [{ mode: 'attest' }, /input mode must be one of sign, verify, not 'attest'/],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction({ 'model-path': model, ...inputs });
      expect(run.code, JSON.stringify(inputs)).toBe(1);
      expect(run.stdout).toMatch(new RegExp(`::error::Usage error: ${message.source}`));
    }
  });
});
