import path from 'node:path';
import { Command } from 'commander';
import type { SignerInfo, SigningMethod } from '@model-signing/core';
import { loadCore, loadCoreNeutralInternals } from '../load-core.js';
import { createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addModelOptions, positiveInteger, walkOptionsFrom, type ModelOptions } from './common.js';
import { addOciOptions, runOci, type OciCliOptions } from './oci.js';
import { addVerifierOptions, createVerifier, type VerifierCliOptions } from './verifiers.js';
import {
  addClaimVerifierOptions,
  checkClaimsFile,
  claimVerifierOptionsOf,
  claimsJson,
  createClaimVerifiers,
  renderClaims,
} from './claims.js';
import { verifyPolicyCommand } from './verify-policy.js';

type VerifyOptions = ModelOptions &
  VerifierCliOptions &
  OciCliOptions & {
    signature: string;
    ignoreUnsignedFiles: boolean;
    maxBundleSize?: number;
    trustCache: boolean;
    claims: boolean;
    claimsFile?: string;
  } & Record<string, unknown>;

/** Where `--claims` reads claims: `--claims-file`, the signature itself when it is a claims file, else claims.jsonl beside it. */
function claimsFileOf(opts: VerifyOptions): string {
  if (opts.claimsFile !== undefined) return opts.claimsFile;
  return opts.signature.endsWith('.jsonl') ? opts.signature : path.join(path.dirname(opts.signature), 'claims.jsonl');
}

async function runVerify(method: SigningMethod, modelPath: string, opts: VerifyOptions, cmd: Command): Promise<number> {
  const oci = await runOci('verify', method, modelPath, opts, cmd);
  if (oci !== undefined) return oci;
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Verifying', opts.progress && !opts.json);
  try {
    const { verifyModel } = await loadCore();
    const verifier = await createVerifier(method, opts);
    // Made before any file is read, so a bad --claims-* option fails at once.
    const claimVerifiers = opts.claims ? await createClaimVerifiers(claimVerifierOptionsOf(opts, 'claims-'), 'claims-') : [];
    const result = await verifyModel({
      ...(await walkOptionsFrom(modelPath, opts)),
      signaturePath: opts.signature,
      verifier,
      ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
      maxBundleBytes: opts.maxBundleSize,
      trustCache: opts.trustCache,
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    progress.stop();
    const { reuse } = result;
    const trusted = opts.trustCache
      ? ` (${reuse.reusedFiles} files proven unchanged by the local record, ${reuse.rehashedFiles} read)`
      : '';
    // Paths the signer excluded can hold anything now: say so rather than let
    // "succeeded" read as "every file was checked".
    const notChecked = result.notChecked.length > 0 ? `; not checked (excluded when signed): ${result.notChecked.join(', ')}` : '';
    // As the reference prints it for claims files.
    const matched = result.source?.line !== undefined ? ` (matched line ${result.source.line} of ${opts.signature})` : '';
    for (const warning of result.source?.warnings ?? []) reporter.info(`${opts.signature}: ${warning.message} [${warning.code}]`);
    const lines = [`Verification succeeded${matched}${trusted}${notChecked}${timestampNote(result.signer)}`];
    let claims: Record<string, unknown> = {};
    if (opts.claims) {
      const { rootDigest } = await loadCore();
      const { sortResources } = await loadCoreNeutralInternals();
      const file = claimsFileOf(opts);
      // The signed files, as the signature lists them and as signing orders them (the reference orders some names otherwise).
      const roots = [...new Set([result.manifest.rootDigest, rootDigest(sortResources(result.manifest.resources))])];
      const checked = await checkClaimsFile(file, roots, [verifier, ...claimVerifiers], opts.maxBundleSize);
      lines.push(...(await renderClaims(checked, file)));
      claims = { claims: claimsJson(checked, file) };
    }
    reporter.success(lines, {
      ...(result.source ? { signatureSource: result.source } : {}),
      ...claims,
      model: result.manifest.modelName,
      digest: `sha256:${result.manifest.rootDigest}`,
      signer: result.signer,
      files: result.files.length,
      notChecked: result.notChecked,
      serialization: result.manifest.serialization,
      reuse,
    });
    return 0;
  } catch (err) {
    progress.stop();
    return reportFailure(err, 'Verification', opts.json);
  }
}

/**
 * What the success line says about RFC 3161 timestamps: a verified one was
 * used (for a certificate, the path was checked at its time); an unverified
 * one is only what the signature claims.
 */
function timestampNote(signer: SignerInfo): string {
  return (signer.timestamps ?? [])
    .map(({ time, verified, authority }) => {
      const by = authority === undefined ? '' : ` by '${authority}'`;
      if (!verified) {
        return `; timestamp ${time.toISOString()}${by} not checked and not used (give --tsa-certificate-chain to verify it)`;
      }
      const used = signer.method === 'certificate' ? ': the certificate was checked at that time' : '';
      return `; timestamped ${time.toISOString()}${by} (verified${used})`;
    })
    .join('');
}

/** Adds --ignore-unsigned-files / --no-ignore-unsigned-files. */
export function addUnsignedFilesOption(cmd: Command): Command {
  return cmd
    .option('--ignore-unsigned-files', 'tolerate files the signature does not cover', false)
    .option('--no-ignore-unsigned-files', 'fail on files the signature does not cover (default)');
}

const OCI_EXAMPLE =
  '  $ model-signing verify key oci://ghcr.io/my-org/my-model:v1 --public-key key.pub --output ./my-model   # a verified pull (docs/oci.md)';

const CLAIMS_EXAMPLE =
  '  $ model-signing verify key ./my-model --signature ./my-model/claims.jsonl --public-key owner.pub \\\n      --claims --claims-public-key evaluator.pub';

const POLICY_EXAMPLE = `  $ model-signing verify --policy policy.yaml ./my-model --signature ./my-model/claims.jsonl

A trust policy (--policy, docs/policy.md) takes the place of the method and its verifier options;
its options: model-signing verify --policy POLICY --help`;

const METHOD_HELP: Record<SigningMethod, { description: string; example: string }> = {
  sigstore: {
    description: 'Verify a Sigstore keyless signature by signer identity and issuer (default method)',
    example:
      '  $ model-signing verify sigstore ./my-model --signature model.sig \\\n      --identity alice@example.com --identity-provider https://accounts.google.com',
  },
  key: {
    description: 'Verify a signature made with an elliptic-curve key',
    example: '  $ model-signing verify key ./my-model --signature my-model.sig --public-key key.pub',
  },
  certificate: {
    description: 'Verify a signature made with an X.509 certificate',
    example:
      '  $ model-signing verify certificate ./my-model --signature my-model.sig --certificate-chain ca.pem\n' +
      '  $ model-signing verify certificate ./my-model --signature my-model.sig --certificate-chain ca.pem \\\n' +
      '      --tsa-certificate-chain tsa-chain.pem   # a timestamped signature: the certificate is checked at the stamped time',
  },
};

/** `model-signing verify <method> MODEL`. */
export function verifyCommands(setExitCode: (code: number) => void): Command {
  const verify = new Command('verify')
    .description('Verify a model against its signature: the signer, then every file (nothing changed, missing or added)')
    .addHelpText(
      'after',
      `\nExamples:\n${METHOD_HELP.key.example}\n${METHOD_HELP.certificate.example}\n${METHOD_HELP.sigstore.example}\n${CLAIMS_EXAMPLE}\n${OCI_EXAMPLE}\n${POLICY_EXAMPLE}`,
    );
  for (const method of ['sigstore', 'key', 'certificate'] as const) {
    const cmd = new Command(method)
      .description(METHOD_HELP[method].description)
      .argument('<model>', 'model directory, single model file, or registry reference (oci://host/repository:tag: a verified pull)');
    cmd.option(
      '--signature <path>',
      'the signature file to check: one bundle (model.sig), or a claims file (claims.jsonl), whose newest signature that verifies counts',
      'model.sig',
    );
    cmd.option(
      '--max-bundle-size <bytes>',
      'largest signature file to read (default: 64 MiB plus 1 KiB per file of the model, so a million-file dataset needs no option; at most 512 MiB)',
      positiveInteger,
    );
    addUnsignedFilesOption(cmd);
    cmd.option(
      '--trust-cache',
      "skip reading files the local hash record proves unchanged; trusts this machine's file timestamps and cache (docs/incremental.md)",
      false,
    );
    addModelOptions(cmd);
    addVerifierOptions(cmd, method);
    cmd
      .option(
        '--claims',
        'after the verdict, check and show the claims about the model (claims.jsonl): signed by the model signer or by a party named with --claims-*',
        false,
      )
      .option(
        '--claims-file <path>',
        'the claims file for --claims (default: the signature when it is a claims file, else claims.jsonl beside it)',
      );
    addClaimVerifierOptions(cmd, 'claims-');
    addOciOptions(cmd, 'verify');
    cmd.addHelpText('after', `\nExamples:\n${METHOD_HELP[method].example}\n${CLAIMS_EXAMPLE}`);
    cmd.action(async (model: string, opts: VerifyOptions, self: Command) => setExitCode(await runVerify(method, model, opts, self)));
    verify.addCommand(cmd);
  }
  // Chosen by --policy in place of a method (argv.ts), so not listed among the methods.
  return verify.addCommand(verifyPolicyCommand(setExitCode), { hidden: true });
}
