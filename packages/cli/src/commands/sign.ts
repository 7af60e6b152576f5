import { Command } from 'commander';
import type { Signer } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, walkOptionsFrom, type HashOptions, type ModelOptions } from './common.js';
import { createSigstoreSigner, addSigstoreSignOptions, type SigstoreSignCliOptions } from './sigstore.js';

interface SignOptions extends ModelOptions, HashOptions {
  signature: string;
}

async function runSign(modelPath: string, opts: SignOptions, makeSigner: () => Promise<Signer>): Promise<number> {
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Hashing', opts.progress && !opts.json);
  try {
    const { signModel, rootDigest } = await loadCore();
    const signer = await makeSigner();
    const result = await signModel({
      ...walkOptionsFrom(modelPath, opts),
      method: opts.method,
      hashAlgorithm: opts.hash,
      shardSize: opts.shardSize,
      signer,
      signaturePath: opts.signature,
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    progress.stop();
    const digest = `sha256:${rootDigest(result.manifest.resources)}`;
    reporter.success(`Signing succeeded: wrote ${opts.signature} (${result.manifest.resources.length} digests, ${digest})`, {
      signature: result.signaturePath,
      method: signer.method,
      model: result.manifest.modelName,
      digest,
      resources: result.manifest.resources.length,
      serialization: result.manifest.serialization,
    });
    return 0;
  } catch (err) {
    progress.stop();
    return reportFailure(err, 'Signing', opts.json);
  }
}

const EXAMPLES = `
Examples:
  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig
  $ model-signing sign certificate ./my-model --private-key key.pem \\
      --signing-certificate cert.pem --certificate-chain intermediate.pem
  $ model-signing sign key ./my-model --private-key key.pem --method shards --hash blake2b
  $ model-signing sign ./my-model                 # Sigstore keyless (the default method)`;

function signCommand(name: string, description: string): Command {
  const cmd = new Command(name).description(description).argument('<model>', 'model directory or single model file');
  cmd.option('--signature <path>', 'where to write the signature', 'model.sig');
  addModelOptions(cmd);
  addHashOptions(cmd);
  return cmd;
}

/** `model-signing sign <method> MODEL`. */
export function signCommands(setExitCode: (code: number) => void): Command {
  const sign = new Command('sign').description('Sign a model: hash every file and write a signature (Sigstore bundle)').addHelpText('after', EXAMPLES);

  const key = signCommand('key', 'Sign with an elliptic-curve private key (P-256, P-384 or P-521)')
    .requiredOption('--private-key <path>', 'PEM private key (SEC1 or PKCS#8, optionally encrypted)')
    .option('--password <password>', 'password of an encrypted private key')
    .addHelpText('after', '\nExample:\n  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig')
    .action(async (model: string, opts: SignOptions & { privateKey: string; password?: string }) => {
      setExitCode(await runSign(model, opts, async () => (await loadCore()).KeySigner.create({ privateKey: opts.privateKey, ...(opts.password !== undefined ? { password: opts.password } : {}) })));
    });

  const certificate = signCommand('certificate', 'Sign with a private key and its X.509 certificate (the chain goes into the signature)')
    .requiredOption('--private-key <path>', 'PEM private key of the signing certificate')
    .option('--password <password>', 'password of an encrypted private key')
    .requiredOption('--signing-certificate <path>', 'PEM signing (leaf) certificate')
    .option('--certificate-chain <path>', 'PEM file of intermediate (and optionally root) certificates; repeatable, in order', (v: string, p: string[]) => [...p, v], [])
    .addHelpText('after', '\nExample:\n  $ model-signing sign certificate ./my-model --private-key key.pem --signing-certificate leaf.pem --certificate-chain ca-chain.pem')
    .action(async (model: string, opts: SignOptions & { privateKey: string; password?: string; signingCertificate: string; certificateChain: string[] }) => {
      setExitCode(
        await runSign(model, opts, async () =>
          (await loadCore()).CertificateSigner.create({
            privateKey: opts.privateKey,
            signingCertificate: opts.signingCertificate,
            certificateChain: opts.certificateChain,
            ...(opts.password !== undefined ? { password: opts.password } : {}),
          }),
        ),
      );
    });

  const sigstore = addSigstoreSignOptions(signCommand('sigstore', 'Sign keyless with Sigstore: an OIDC identity, a Fulcio certificate and a Rekor log entry (default method)'))
    .action(async (model: string, opts: SignOptions & SigstoreSignCliOptions) => {
      setExitCode(await runSign(model, opts, () => createSigstoreSigner(opts)));
    });

  sign.addCommand(sigstore).addCommand(key).addCommand(certificate);
  return sign;
}
