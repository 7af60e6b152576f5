import { Argument, Command, InvalidArgumentError } from 'commander';
import type { SigningMethod } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { UsageError, createReporter, escapedLines, reportFailure } from '../output.js';
import { createProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, resolveIgnorePaths, type HashOptions, type ModelOptions } from './common.js';
import { addSignerOptions, createSigner, printableTsaUrl, timestampAuthorityOf, type SignerCliOptions } from './signers.js';
import { addUnsignedFilesOption } from './verify.js';
import { POLICY_OFFLINE, reportPolicyFailure } from './policy.js';
import { addVerifierOptions, createVerifier, type VerifierCliOptions } from './verifiers.js';

/**
 * Loads the hub adapter on first use. It and `@huggingface/hub` are optional
 * peer dependencies, so the CLI installs and signs without them; only the
 * `hf` commands need them, and say what to install when they are missing.
 */
async function loadHub(): Promise<typeof import('@model-signing/hf-hub')> {
  try {
    return await import('@model-signing/hf-hub');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
    const { ModelSigningError } = await loadCore();
    throw new ModelSigningError({
      code: 'MISSING_DEPENDENCY',
      cause,
      message: `The hf commands need @model-signing/hf-hub and @huggingface/hub, which are not installed; install them where the CLI is: npm install -g @model-signing/hf-hub @huggingface/hub (or without -g in your project)`,
    });
  }
}

interface HubCliOptions {
  token?: string;
  endpoint?: string;
  signature: string;
  json: boolean;
  progress: boolean;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const methodArgument = () => new Argument('<method>', 'how the model is (or was) signed').choices(['sigstore', 'key', 'certificate']);
/** Download and verify also take `--policy` in the method's place (argv.ts writes it as the method `policy`). */
const verifyMethodArgument = () =>
  new Argument('<method>', 'how the repo is signed; with --policy POLICY, no method: the policy says who must sign').choices([
    'sigstore',
    'key',
    'certificate',
    'policy',
  ]);

/** The verifier options of the methods, which a policy replaces (its --offline is the policy's too). */
const VERIFIER_OPTIONS = addVerifierOptions(new Command())
  .options.filter((o) => o.attributeName() !== 'offline')
  .map((o) => o.attributeName());

/**
 * Who judges the repo: the method's verifier, or the trust policy given
 * with --policy, whose rule for the repo (and revision) says who must sign
 * and which claims must hold (docs/policy.md).
 *
 * @throws {UsageError} a verifier option given with --policy.
 */
async function trustOf(cmd: Command, method: string, opts: DownloadOptions) {
  if (method !== 'policy') return { verifier: await createVerifier(method as SigningMethod, opts) };
  if (opts.policy === undefined)
    throw new UsageError(`the policy method needs --policy POLICY: model-signing hf ${cmd.name()} --policy POLICY REPO`);
  const given = cmd.options.filter(
    (o) => VERIFIER_OPTIONS.includes(o.attributeName()) && cmd.getOptionValueSource(o.attributeName()) === 'cli',
  );
  if (given.length > 0) {
    throw new UsageError(
      `${given.map((o) => o.long).join(', ')} cannot be used with --policy: the policy's authorities say who must sign (docs/policy.md)`,
    );
  }
  return { policy: await (await loadCore()).loadPolicy(opts.policy, { offline: opts.offline ?? false }) };
}

/** What a policy decided, for --json. */
const policyData = (result: { claims: unknown[]; policy?: { decision: unknown; signers: unknown[] } }) => ({
  claims: result.claims,
  ...(result.policy ? { decision: result.policy.decision, signers: result.policy.signers } : {}),
});

function addHubOptions(cmd: Command): Command {
  return cmd
    .option('--token <token>', 'access token for the hub: hf_… on huggingface.co, any form on other servers (default: $HF_TOKEN)')
    .option('--endpoint <url>', 'hub URL (default: $HF_ENDPOINT, else https://huggingface.co)')
    .option('--signature <path>', 'path of the signature inside the repo', 'model.sig');
}

function connection(opts: HubCliOptions) {
  return {
    ...(opts.token !== undefined ? { accessToken: opts.token } : {}),
    ...(opts.endpoint !== undefined ? { hubUrl: opts.endpoint } : {}),
    signaturePath: opts.signature,
  };
}

type UploadOptions = HubCliOptions &
  ModelOptions &
  HashOptions &
  SignerCliOptions & {
    branch?: string;
    createPr: boolean;
    createRepo: boolean;
    commitMessage?: string;
    commitDescription?: string;
    parentCommit?: string;
  };

type DownloadOptions = HubCliOptions &
  VerifierCliOptions & {
    revision: string;
    cacheDir?: string;
    ignoreUnsignedFiles: boolean;
    ignoreGitPaths: boolean;
    concurrency?: number;
    include?: string[];
    policy?: string;
  };

type HubVerifyOptions = DownloadOptions & { metadataOnly: boolean; cached: boolean; workers?: number };

/**
 * Exit status of `hf verify --metadata-only` when some files have no SHA-256
 * on the hub, so nothing was checked for them: not a failed verification (1),
 * not a success either.
 */
export const EXIT_INCOMPLETE = 3;

/** `1 file` / `3 files`. */
const files = (n: number) => `${n} ${n === 1 ? 'file' : 'files'}`;

function uploadCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('upload')
    .description('Sign a local model and upload its files and the signature to a hub repo in one commit')
    .addArgument(methodArgument())
    .argument('<model>', 'local model directory')
    .argument('<repo>', 'hub repo: org/name, datasets/org/name or spaces/org/name');
  addHubOptions(cmd);
  addModelOptions(cmd);
  addHashOptions(cmd);
  addSignerOptions(cmd);
  cmd
    .option('--branch <name>', 'branch to commit to (default: main)')
    .option('--create-pr', 'open a pull request instead of committing to the branch', false)
    .option('--create-repo', 'create the repo if it does not exist', false)
    .option('--commit-message <text>', 'commit title')
    .option('--commit-description <text>', 'commit description')
    .option('--parent-commit <oid>', 'fail unless the branch is still at this commit')
    .addHelpText(
      'after',
      [
        '',
        'Claims (docs/claims.md) go up in the same commit: with --signature claims.jsonl the new signature is',
        "appended to the model's claims.jsonl (the local file is left as it is) and the whole is the repo's",
        'signature; with model.sig, a claims.jsonl beside it goes up as it is.',
        '',
        'Example:',
        '  $ HF_TOKEN=hf_… model-signing hf upload key ./my-model my-org/my-model --private-key key.pem',
        '  $ model-signing hf upload key ./my-model my-org/my-model --private-key key.pem --signature claims.jsonl',
        '  $ model-signing hf upload certificate ./my-model my-org/my-model --private-key key.pem --signing-certificate leaf.pem \\',
        '      --tsa-url https://timestamp.sigstore.dev/api/v1/timestamp   # RFC 3161 timestamp (docs/timestamps.md)',
      ].join('\n'),
    );
  return cmd.action(async (method: SigningMethod, model: string, repo: string, opts: UploadOptions) => {
    const reporter = createReporter(opts.json);
    const bar = createProgressBar('Uploading', opts.progress && !opts.json);
    try {
      const timestamp = timestampAuthorityOf(method, opts);
      const { uploadSignedModel } = await loadHub();
      const result = await uploadSignedModel({
        ...connection(opts),
        repo,
        modelPath: model,
        signer: await createSigner(method, opts),
        ...timestamp,
        ignorePaths: resolveIgnorePaths(model, opts.ignorePaths),
        ignoreGitPaths: opts.ignoreGitPaths,
        allowSymlinks: opts.allowSymlinks,
        method: opts.method,
        hashAlgorithm: opts.hash,
        shardSize: opts.shardSize,
        createRepo: opts.createRepo,
        isPullRequest: opts.createPr,
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
        ...(opts.commitMessage !== undefined ? { commitTitle: opts.commitMessage } : {}),
        ...(opts.commitDescription !== undefined ? { commitDescription: opts.commitDescription } : {}),
        ...(opts.parentCommit !== undefined ? { parentCommit: opts.parentCommit } : {}),
        onProgress: (p) => {
          if (p.phase === 'hashing') bar.update(p.bytesHashed, p.totalBytes, 'hashing');
        },
      });
      bar.stop();
      const { claims } = result;
      for (const warning of claims?.warnings ?? []) reporter.info(`${claims!.path}: ${warning.message} [${warning.code}]`);
      if (claims && claims.otherSubjects.length > 0) {
        const lines = claims.otherSubjects;
        reporter.info(
          `${claims.path}: ${lines.length === 1 ? `line ${lines[0]} is a claim` : `lines ${lines.join(', ')} are claims`} about other files than those uploaded (uploaded as they are; verifiers will not count them for this model)`,
        );
      }
      const uploadedClaims = claims
        ? claims.path === result.signaturePath
          ? ` (${claims.claims} ${claims.claims === 1 ? 'claim' : 'claims'}, the new signature last)`
          : ` and ${claims.path} (${claims.claims} ${claims.claims === 1 ? 'claim' : 'claims'})`
        : '';
      const tsa = printableTsaUrl(opts);
      reporter.success(
        `Upload succeeded: ${result.files.length} files and ${result.signaturePath}${uploadedClaims} in commit ${result.commit.oid}${tsa !== undefined ? `; timestamped by ${tsa}` : ''}`,
        {
          commit: result.commit,
          ...(tsa !== undefined ? { timestampAuthority: tsa } : {}),
          ...(result.pullRequestUrl ? { pullRequestUrl: result.pullRequestUrl } : {}),
          files: result.files,
          signature: result.signaturePath,
          ...(claims ? { claims } : {}),
        },
      );
      setExitCode(0);
    } catch (err) {
      bar.stop();
      setExitCode(reportFailure(err, 'Upload', opts.json));
    }
  });
}

function addDownloadOptions(cmd: Command): Command {
  addHubOptions(cmd);
  addUnsignedFilesOption(cmd);
  addVerifierOptions(cmd);
  const offline = cmd.options.find((o) => o.attributeName() === 'offline');
  if (offline) offline.description += `; with --policy, ${POLICY_OFFLINE}`;
  return cmd
    .option(
      '--policy <path>',
      'a trust policy (JSON or YAML; docs/policy.md) in place of the method and its verifier options: its rule for the repo (and --revision) says who must sign and which claims must hold (claims.jsonl beside the signature); a refusal prints the decision',
    )
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--cache-dir <dir>', 'hub cache (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)')
    .option('--ignore-git-paths', 'leave out .git* files at the repo root', true)
    .option('--no-ignore-git-paths', 'include git files')
    .option('--no-progress', 'do not show a progress bar')
    .option('--json', 'print a machine-readable result on stdout', false);
}

function downloadCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('download')
    .description(
      'Download a hub repo into the cache only if it verifies; the repo is checked against the signature before any weight is fetched',
    )
    .addArgument(verifyMethodArgument())
    .argument('<repo>', 'hub repo: org/name, datasets/org/name or spaces/org/name');
  addDownloadOptions(cmd)
    .option('--concurrency <n>', 'files downloaded at once (default 4)', positiveInteger)
    .option(
      '--include <pattern...>',
      "download only these signed files: paths or patterns as huggingface-cli's (*.json, onnx/); each must match a signed file",
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ model-signing hf download key my-org/my-model --public-key key.pub',
        '  /home/me/.cache/huggingface/hub/models--my-org--my-model/snapshots/<commit>',
        "  $ model-signing hf download key my-org/my-model --public-key key.pub --include config.json 'onnx/*_quantized.onnx'",
        '  $ model-signing hf download --policy policy.yaml my-org/my-model',
      ].join('\n'),
    );
  return cmd.action(async (method: string, repo: string, opts: DownloadOptions) => {
    const reporter = createReporter(opts.json);
    const bar = createProgressBar('Downloading', opts.progress && !opts.json);
    try {
      const trust = await trustOf(cmd, method, opts);
      const { downloadVerifiedModel } = await loadHub();
      let done = 0;
      let total = 0;
      const perFile = new Map<string, number>();
      const result = await downloadVerifiedModel({
        ...connection(opts),
        repo,
        revision: opts.revision,
        ...trust,
        ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
        ignoreGitPaths: opts.ignoreGitPaths,
        ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.include !== undefined ? { allowPatterns: opts.include } : {}),
        onProgress: (p) => {
          if (p.phase === 'waiting-for-lock') reporter.info('Waiting for another download of this repo into the same cache to finish…');
          if (p.phase === 'listing-matched') total = p.totalBytes;
          if (p.phase !== 'downloading') return;
          done += p.bytesDone - (perFile.get(p.path) ?? 0);
          perFile.set(p.path, p.bytesDone);
          bar.update(done, total, p.path);
        },
      });
      bar.stop();
      reporter.success(result.snapshotPath, {
        snapshotPath: result.snapshotPath,
        commit: result.commit,
        files: result.files,
        downloaded: result.downloaded,
        reused: result.reused,
        signer: result.signer,
        ...policyData(result),
      });
      if (result.policy) reporter.info(`Allowed by the policy: ${result.policy.decision.reason}`);
      setExitCode(0);
    } catch (err) {
      bar.stop();
      setExitCode(await reportPolicyFailure(err, 'Download', opts.json));
    }
  });
}

function verifyCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('verify')
    .description(
      'Verify a hub repo without storing it: the signature, the file list, and the bytes of every file (streamed and hashed); or re-verify a cached snapshot with --cached',
    )
    .addArgument(verifyMethodArgument())
    .argument('<repo>', 'hub repo: org/name, datasets/org/name or spaces/org/name');
  addDownloadOptions(cmd)
    .option(
      '--metadata-only',
      "download no file bytes: compare only the hub's SHA-256 records with the signature (proves the hub's records, not the bytes it serves)",
      false,
    )
    .option('--cached', 'verify the snapshot in the local cache instead of the hub', false)
    .option('--workers <n>', 'hashing threads for --cached (default: all cores)', positiveInteger)
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 verified; 1 failed (the error code says why); 2 usage error;',
        `${EXIT_INCOMPLETE} --metadata-only could not check some files (the hub has no SHA-256 for them).`,
        '',
        'Examples:',
        '  $ model-signing hf verify key my-org/my-model --public-key key.pub',
        '  $ model-signing hf verify key my-org/my-model --public-key key.pub --metadata-only',
        '  $ model-signing hf verify key my-org/my-model --public-key key.pub --cached',
        '  $ model-signing hf verify --policy policy.yaml my-org/my-model',
      ].join('\n'),
    );
  return cmd.action(async (method: string, repo: string, opts: HubVerifyOptions) => {
    const reporter = createReporter(opts.json);
    const bar = createProgressBar('Verifying', opts.progress && !opts.json && !opts.cached && !opts.metadataOnly);
    try {
      const trust = await trustOf(cmd, method, opts);
      const hub = await loadHub();
      const common = {
        repo,
        revision: opts.revision,
        ...trust,
        signaturePath: opts.signature,
        ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
        ignoreGitPaths: opts.ignoreGitPaths,
      };
      if (opts.cached) {
        const result = await hub.verifyCachedModel({
          ...common,
          ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        });
        reporter.success(
          [
            `Verification succeeded: ${result.snapshotPath}`,
            ...(result.policy ? [`Allowed by the policy: ${result.policy.decision.reason}`] : []),
          ],
          {
            snapshotPath: result.snapshotPath,
            commit: result.commit,
            files: result.files,
            signer: result.signer,
            ...policyData(result),
          },
        );
        setExitCode(0);
        return;
      }
      const result = await hub.verifyHubRepo({
        ...connection(opts),
        ...common,
        hashFiles: opts.metadataOnly ? 'none' : 'all',
        onProgress: (p) => bar.update(p.bytesDone, p.totalBytes, p.path),
      });
      bar.stop();
      const data = {
        commit: result.commit,
        bytesChecked: result.bytesChecked,
        hashed: result.hashed,
        metadataOnly: result.metadataOnly,
        unchecked: result.unchecked,
        files: result.files,
        signer: result.signer,
        ...policyData(result),
      };
      const where = `${repo} at commit ${result.commit}`;
      const signed = result.policy
        ? `The policy allows it (${result.policy.decision.reason}), and the hub lists exactly the signed files.`
        : 'The signature is valid, and the hub lists exactly the signed files.';
      if (result.bytesChecked) {
        reporter.success(
          [
            `Verified ${where}.`,
            signed,
            `All ${files(result.files.length)} were downloaded, hashed and match the signature (nothing was stored).`,
          ],
          data,
        );
        setExitCode(0);
        return;
      }
      const lines = [
        result.unchecked.length === 0 ? `Metadata check passed for ${where}.` : `Metadata check incomplete for ${where}.`,
        signed,
        `${files(result.metadataOnly.length)}: the hub's SHA-256 records match the signature.`,
        'No file bytes were downloaded, so this does not prove the hub serves those bytes.',
      ];
      if (result.unchecked.length > 0) {
        lines.push(
          `${files(result.unchecked.length)} could not be checked (the hub has no SHA-256 for them):`,
          ...result.unchecked.map((f) => `  ${f}`),
        );
      }
      lines.push('Run without --metadata-only to download and hash every file.');
      if (result.unchecked.length === 0) {
        reporter.success(lines, data);
        setExitCode(0);
      } else if (opts.json) {
        process.stdout.write(JSON.stringify({ ok: false, ...data }, null, 2) + '\n');
        setExitCode(EXIT_INCOMPLETE);
      } else {
        process.stdout.write(escapedLines(lines));
        setExitCode(EXIT_INCOMPLETE);
      }
    } catch (err) {
      bar.stop();
      setExitCode(await reportPolicyFailure(err, 'Verification', opts.json));
    }
  });
}

/** `model-signing hf upload|download|verify`. */
export function hfCommands(setExitCode: (code: number) => void): Command {
  return new Command('hf')
    .description('Sign on upload to and verify on download from the Hugging Face Hub (HF_TOKEN and HF_ENDPOINT are honoured)')
    .addCommand(uploadCommand(setExitCode))
    .addCommand(downloadCommand(setExitCode))
    .addCommand(verifyCommand(setExitCode));
}
