import * as actions from '@actions/core';
import {
  CertificateSigner,
  CertificateVerifier,
  KeySigner,
  KeyVerifier,
  SigstoreSigner,
  SigstoreVerifier,
  createKmsSigner,
  rootDigest,
  signModel,
  verifyModel,
  type SerializedBundle,
  type Signer,
  type Verifier,
} from '@model-signing/core';
import { isKmsUri, writeSignature } from '@model-signing/core/internal/node';
import { uploadSignedModel } from '@model-signing/hf-hub';
import { keylessIdentity, workflowIdentityRegExp, type KeylessIdentity } from './identity.js';
import type { Inputs } from './inputs.js';

/** Signature path inside the Hugging Face repo, where the hub tools look for it. */
const HUB_SIGNATURE_PATH = 'model.sig';

async function createSigner(inputs: Inputs): Promise<Signer> {
  const privateKey = inputs.privateKey ?? '';
  const password = inputs.password !== undefined ? { password: inputs.password } : {};
  switch (inputs.method) {
    case 'sigstore':
      // The workflow's identity: GitHub's OIDC token for the audience `sigstore` (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN).
      return SigstoreSigner.create({
        useAmbientCredentials: true,
        useStaging: inputs.useStaging,
        ...(inputs.trustConfig !== undefined ? { trustConfig: inputs.trustConfig } : {}),
      });
    case 'key':
      return isKmsUri(privateKey) ? createKmsSigner({ uri: privateKey }) : KeySigner.create({ privateKey, ...password });
    case 'certificate': {
      const chain = { signingCertificate: inputs.signingCertificate ?? '', certificateChain: inputs.certificateChain };
      return isKmsUri(privateKey)
        ? createKmsSigner({ uri: privateKey, ...chain })
        : CertificateSigner.create({ privateKey, ...chain, ...password });
    }
  }
}

async function createVerifier(inputs: Inputs, pinned?: KeylessIdentity): Promise<Verifier> {
  switch (inputs.method) {
    case 'key':
      return KeyVerifier.create({ publicKey: inputs.publicKey ?? '' });
    case 'certificate':
      return CertificateVerifier.create({ certificateChain: inputs.certificateChain });
    case 'sigstore':
      return SigstoreVerifier.create({
        identityProvider: pinned?.issuer ?? inputs.identityProvider ?? '',
        ...(pinned ? { identity: pinned.identity } : {}),
        ...(!pinned && inputs.identity !== undefined ? { identity: inputs.identity } : {}),
        ...(!pinned && inputs.identityRegExp !== undefined ? { identityRegExp: inputs.identityRegExp } : {}),
        useStaging: inputs.useStaging,
        ...(inputs.trustConfig !== undefined ? { trustConfig: inputs.trustConfig } : {}),
      });
  }
}

/** A shell word, quoted only when it must be. */
const shellWord = (word: string) => (/^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** The CLI line that verifies what was signed, pinned to the signer (and on the same Sigstore instance). */
function verifyCommand(inputs: Inputs, pin: string[]): string {
  const instance =
    inputs.method !== 'sigstore'
      ? []
      : inputs.trustConfig !== undefined
        ? ['--trust-config', inputs.trustConfig]
        : inputs.useStaging
          ? ['--use-staging']
          : [];
  const words = ['model-signing', 'verify', inputs.method, inputs.modelPath, '--signature', inputs.signaturePath, ...pin, ...instance];
  return words.map(shellWord).join(' ');
}

/** Signs the model (uploading it signed to the hub when asked), reports what to pin, and checks a keyless signature against it. */
export async function sign(inputs: Inputs): Promise<void> {
  const signer = await createSigner(inputs);
  const common = {
    modelPath: inputs.modelPath,
    ignorePaths: inputs.ignorePaths,
    hashAlgorithm: inputs.hashAlgorithm,
  };
  let uploaded: { repo: string; oid: string; url: string } | undefined;
  let digest: string;
  let files: number;
  let bundle: SerializedBundle;
  if (inputs.hfRepo !== undefined) {
    actions.info(`Signing ${inputs.modelPath} and uploading it with its signature to ${inputs.hfRepo} in one commit…`);
    const repository = process.env['GITHUB_REPOSITORY'];
    const result = await uploadSignedModel({
      ...common,
      // A signature written into the model by an earlier step is not part of the model.
      ignorePaths: [...inputs.ignorePaths, inputs.signaturePath],
      repo: inputs.hfRepo,
      signer,
      signaturePath: HUB_SIGNATURE_PATH,
      branch: inputs.hfBranch,
      createRepo: inputs.hfCreateRepo,
      ...(inputs.hfToken !== undefined ? { accessToken: inputs.hfToken } : {}),
      ...(inputs.hfEndpoint !== undefined ? { hubUrl: inputs.hfEndpoint } : {}),
      ...(repository ? { commitTitle: `Upload model signed by ${repository} (${process.env['GITHUB_WORKFLOW'] ?? 'workflow'})` } : {}),
    });
    await writeSignature(inputs.signaturePath, result.bundle);
    uploaded = { repo: inputs.hfRepo, ...result.commit };
    ({ bundle } = result);
    digest = `sha256:${rootDigest(result.manifest.resources)}`;
    files = result.files.length;
  } else {
    actions.info(`Signing ${inputs.modelPath}…`);
    const result = await signModel({ ...common, signaturePath: inputs.signaturePath, signer });
    ({ bundle } = result);
    digest = `sha256:${rootDigest(result.manifest.resources)}`;
    files = result.manifest.resources.length;
  }
  actions.info(`Signed ${files} file${files === 1 ? '' : 's'} (${digest}); signature: ${inputs.signaturePath}`);
  actions.setOutput('signature', inputs.signaturePath);
  actions.setOutput('digest', digest);
  actions.setOutput('method', inputs.method);

  const rows: [string, string][] = [
    ['Model', `\`${inputs.modelPath}\``],
    ['Digest', `\`${digest}\``],
    ['Files', String(files)],
    ['Signature', `\`${inputs.signaturePath}\``],
    ['Method', inputs.method === 'sigstore' ? 'sigstore (keyless)' : inputs.method],
  ];
  const commands: [string, string][] = [];
  if (inputs.method === 'sigstore') {
    const signer = keylessIdentity(bundle);
    // The pin printed is the pin that verifies: check the new signature against it before saying so.
    await verifyModel({
      modelPath: inputs.modelPath,
      signaturePath: inputs.signaturePath,
      verifier: await createVerifier(inputs, signer),
      ignorePaths: inputs.ignorePaths,
    });
    actions.info(`Certificate identity: ${signer.identity}`);
    actions.info(`OIDC issuer: ${signer.issuer}`);
    actions.setOutput('identity', signer.identity);
    actions.setOutput('issuer', signer.issuer);
    rows.push(['Identity', `\`${signer.identity}\``], ['Issuer', `\`${signer.issuer}\``]);
    commands.push([
      'Verify it, pinned to this workflow:',
      verifyCommand(inputs, ['--identity', signer.identity, '--identity-provider', signer.issuer]),
    ]);
    const anyRef = workflowIdentityRegExp(signer.identity);
    if (anyRef !== undefined) {
      commands.push([
        'Or accept a run of this workflow on any branch or tag:',
        verifyCommand(inputs, ['--identity-regexp', anyRef, '--identity-provider', signer.issuer]),
      ]);
    }
  } else {
    commands.push([
      'Verify it:',
      verifyCommand(inputs, inputs.method === 'key' ? ['--public-key', 'KEY.pub'] : ['--certificate-chain', 'CA.pem']),
    ]);
  }
  if (uploaded) {
    actions.setOutput('hf-commit', uploaded.oid);
    actions.setOutput('hf-commit-url', uploaded.url);
    rows.push(['Hugging Face Hub', `[${uploaded.repo}@${uploaded.oid.slice(0, 12)}](${uploaded.url})`]);
  }
  actions.info(`Verify it with: ${commands[0]?.[1] ?? ''}`);
  await writeSummary('Model signed', rows, commands);
}

/** Verifies the model against its signature and the trust the inputs pin. */
export async function verify(inputs: Inputs): Promise<void> {
  actions.info(`Verifying ${inputs.modelPath} against ${inputs.signaturePath}…`);
  const result = await verifyModel({
    modelPath: inputs.modelPath,
    signaturePath: inputs.signaturePath,
    verifier: await createVerifier(inputs),
    ignorePaths: inputs.ignorePaths,
    ignoreUnsignedFiles: inputs.ignoreUnsignedFiles,
  });
  const digest = `sha256:${result.manifest.rootDigest}`;
  actions.info(`Verification succeeded: ${result.files.length} files (${digest})`);
  if (result.notChecked.length > 0) actions.warning(`Not checked (excluded when signed): ${result.notChecked.join(', ')}`);
  actions.setOutput('digest', digest);
  actions.setOutput('verified-files', String(result.files.length));
  actions.setOutput('method', result.signer.method);
  const rows: [string, string][] = [
    ['Model', `\`${inputs.modelPath}\``],
    ['Digest', `\`${digest}\``],
    ['Files checked', String(result.files.length)],
    ['Signature', `\`${inputs.signaturePath}\``],
    ['Method', result.signer.method],
  ];
  if (result.signer.identity !== undefined) {
    actions.setOutput('identity', result.signer.identity);
    rows.push(['Identity', `\`${result.signer.identity}\``]);
  }
  if (result.signer.issuer !== undefined) {
    actions.setOutput('issuer', result.signer.issuer);
    rows.push(['Issuer', `\`${result.signer.issuer}\``]);
  }
  if (result.notChecked.length > 0) rows.push(['Not checked (excluded when signed)', result.notChecked.map((n) => `\`${n}\``).join(', ')]);
  await writeSummary('Model verified', rows, []);
}

/** The job's step summary, when the runner gives one ($GITHUB_STEP_SUMMARY). */
async function writeSummary(title: string, rows: [string, string][], commands: [string, string][]): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  const summary = actions.summary.addHeading(title, 3).addTable(rows.map(([name, value]) => [name, markdownCell(value)]));
  for (const [text, command] of commands) summary.addRaw(text, true).addCodeBlock(escapeHtml(command), 'sh');
  await summary.write();
}

/** The summary is HTML, and @actions/core inserts table cells and code as they are: names and paths are escaped here. */
const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A table cell from Markdown-like text: code spans and a link, as Markdown would render them. */
function markdownCell(value: string): string {
  const link = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(value);
  if (link) return `<a href="${escapeHtml(link[2] ?? '').replace(/"/g, '&quot;')}">${escapeHtml(link[1] ?? '')}</a>`;
  return escapeHtml(value).replace(/`([^`]+)`/g, '<code>$1</code>');
}
