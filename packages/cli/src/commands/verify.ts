import { createHash, X509Certificate } from 'node:crypto';
import { Command } from 'commander';
import type { Verifier } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addModelOptions, walkOptionsFrom, type ModelOptions } from './common.js';
import { addSigstoreVerifyOptions, createSigstoreVerifier, type SigstoreVerifyCliOptions } from './sigstore.js';

interface VerifyOptions extends ModelOptions {
  signature: string;
  ignoreUnsignedFiles: boolean;
}

async function runVerify(modelPath: string, opts: VerifyOptions, makeVerifier: () => Promise<Verifier>): Promise<number> {
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Verifying', opts.progress && !opts.json);
  try {
    const { verifyModel } = await loadCore();
    const verifier = await makeVerifier();
    const result = await verifyModel({
      ...walkOptionsFrom(modelPath, opts),
      signaturePath: opts.signature,
      verifier,
      ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    progress.stop();
    reporter.success('Verification succeeded', {
      model: result.manifest.modelName,
      digest: `sha256:${result.manifest.rootDigest}`,
      signer: result.signer,
      files: result.files.length,
      serialization: result.manifest.serialization,
    });
    return 0;
  } catch (err) {
    progress.stop();
    return reportFailure(err, 'Verification', opts.json);
  }
}

function verifyCommand(name: string, description: string): Command {
  const cmd = new Command(name).description(description).argument('<model>', 'model directory or single model file');
  cmd.option('--signature <path>', 'the signature file to check', 'model.sig');
  cmd.option('--ignore-unsigned-files', 'tolerate files the signature does not cover', false);
  cmd.option('--no-ignore-unsigned-files', 'fail on files the signature does not cover (default)');
  return addModelOptions(cmd);
}

/** `model-signing verify <method> MODEL`. */
export function verifyCommands(setExitCode: (code: number) => void): Command {
  const verify = new Command('verify')
    .description('Verify a model against its signature: the signer, then every file (nothing changed, missing or added)')
    .addHelpText(
      'after',
      `
Examples:
  $ model-signing verify key ./my-model --signature my-model.sig --public-key key.pub
  $ model-signing verify certificate ./my-model --signature my-model.sig --certificate-chain ca.pem
  $ model-signing verify ./my-model --signature model.sig --identity alice@example.com --identity-provider https://accounts.google.com`,
    );

  const key = verifyCommand('key', 'Verify a signature made with an elliptic-curve key')
    .requiredOption('--public-key <path>', "the signer's PEM public key")
    .addHelpText('after', '\nExample:\n  $ model-signing verify key ./my-model --signature my-model.sig --public-key key.pub')
    .action(async (model: string, opts: VerifyOptions & { publicKey: string }) => {
      setExitCode(await runVerify(model, opts, async () => (await loadCore()).KeyVerifier.create({ publicKey: opts.publicKey })));
    });

  const certificate = verifyCommand('certificate', 'Verify a signature made with an X.509 certificate')
    .option('--certificate-chain <path>', 'PEM trust anchors (root and/or intermediate CAs); repeatable; default: the Mozilla roots', (v: string, p: string[]) => [...p, v], [])
    .option('--log-fingerprints', 'print the SHA-256 fingerprints of the certificates in the signature', false)
    .addHelpText('after', '\nExample:\n  $ model-signing verify certificate ./my-model --signature my-model.sig --certificate-chain ca.pem')
    .action(async (model: string, opts: VerifyOptions & { certificateChain: string[]; logFingerprints: boolean }) => {
      setExitCode(
        await runVerify(model, opts, async () => {
          const verifier = await (await loadCore()).CertificateVerifier.create({ certificateChain: opts.certificateChain });
          if (opts.logFingerprints) return withFingerprintLog(verifier);
          return verifier;
        }),
      );
    });

  const sigstore = addSigstoreVerifyOptions(verifyCommand('sigstore', 'Verify a Sigstore keyless signature by signer identity and issuer (default method)')).action(
    async (model: string, opts: VerifyOptions & SigstoreVerifyCliOptions) => {
      setExitCode(await runVerify(model, opts, () => createSigstoreVerifier(opts)));
    },
  );

  verify.addCommand(sigstore).addCommand(key).addCommand(certificate);
  return verify;
}

/** Logs each certificate's SHA-256 fingerprint to stderr before verifying, as the reference's --log-fingerprints does. */
function withFingerprintLog(inner: Verifier): Verifier {
  return {
    method: inner.method,
    verify: async (bundle) => {
      for (const der of bundle.certificates) {
        const cert = new X509Certificate(der);
        process.stderr.write(`${createHash('sha256').update(der).digest('hex')}  ${cert.subject.replace(/\n/g, ', ')}\n`);
      }
      return inner.verify(bundle);
    },
  };
}
