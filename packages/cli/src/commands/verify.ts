import { Command } from 'commander';
import type { SigningMethod } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addModelOptions, positiveInteger, walkOptionsFrom, type ModelOptions } from './common.js';
import { addVerifierOptions, createVerifier, type VerifierCliOptions } from './verifiers.js';

type VerifyOptions = ModelOptions &
  VerifierCliOptions & { signature: string; ignoreUnsignedFiles: boolean; maxBundleSize?: number; trustCache: boolean };

async function runVerify(method: SigningMethod, modelPath: string, opts: VerifyOptions): Promise<number> {
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Verifying', opts.progress && !opts.json);
  try {
    const { verifyModel } = await loadCore();
    const verifier = await createVerifier(method, opts);
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
    reporter.success(`Verification succeeded${trusted}${notChecked}`, {
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

/** Adds --ignore-unsigned-files / --no-ignore-unsigned-files. */
export function addUnsignedFilesOption(cmd: Command): Command {
  return cmd
    .option('--ignore-unsigned-files', 'tolerate files the signature does not cover', false)
    .option('--no-ignore-unsigned-files', 'fail on files the signature does not cover (default)');
}

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
    example: '  $ model-signing verify certificate ./my-model --signature my-model.sig --certificate-chain ca.pem',
  },
};

/** `model-signing verify <method> MODEL`. */
export function verifyCommands(setExitCode: (code: number) => void): Command {
  const verify = new Command('verify')
    .description('Verify a model against its signature: the signer, then every file (nothing changed, missing or added)')
    .addHelpText('after', `\nExamples:\n${METHOD_HELP.key.example}\n${METHOD_HELP.certificate.example}\n${METHOD_HELP.sigstore.example}`);
  for (const method of ['sigstore', 'key', 'certificate'] as const) {
    const cmd = new Command(method)
      .description(METHOD_HELP[method].description)
      .argument('<model>', 'model directory or single model file');
    cmd.option('--signature <path>', 'the signature file to check', 'model.sig');
    cmd.option(
      '--max-bundle-size <bytes>',
      'largest signature file to read (default: 64 MiB; raise for models with hundreds of thousands of files)',
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
    cmd.addHelpText('after', `\nExample:\n${METHOD_HELP[method].example}`);
    cmd.action(async (model: string, opts: VerifyOptions) => setExitCode(await runVerify(method, model, opts)));
    verify.addCommand(cmd);
  }
  return verify;
}
