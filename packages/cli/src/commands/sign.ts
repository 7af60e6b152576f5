import fs from 'node:fs';
import { Command } from 'commander';
import { loadCore, loadCoreInternals } from '../load-core.js';
import { createReporter, reportFailure, type Reporter } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, walkOptionsFrom, type HashOptions, type ModelOptions } from './common.js';
import { addIncrementalOptions, incrementalOptionsFrom, type IncrementalCliOptions } from './incremental.js';
import { addOciOptions, runOci, type OciCliOptions } from './oci.js';
import {
  addSignerOptions,
  createSigner,
  printableTsaUrl,
  timestampAuthorityOf,
  type SignCommandMethod,
  type SignerCliOptions,
} from './signers.js';

/** A `.jsonl` signature path selects the claims layout: the signature is appended as one line. */
const isClaimsFile = (signature: string) => signature.endsWith('.jsonl');

type SignOptions = ModelOptions & HashOptions & SignerCliOptions & IncrementalCliOptions & OciCliOptions & { signature: string };

async function runSign(method: SignCommandMethod, modelPath: string, opts: SignOptions, cmd: Command): Promise<number> {
  const oci = await runOci('sign', method, modelPath, opts, cmd);
  if (oci !== undefined) return oci;
  const reporter = createReporter(opts.json);
  const progress = hashProgressBar('Hashing', opts.progress && !opts.json && !opts.dryRun);
  try {
    const { signModel, rootDigest } = await loadCore();
    const incremental = await incrementalOptionsFrom(method, modelPath, opts);
    // Re-signing incrementally takes the settings of the previous signature;
    // only the ones typed on the command line count as a change.
    const explicit = (name: string) => !incremental || cmd.getOptionValueSource(name) === 'cli';
    const { allowSymlinks, ...walk } = await walkOptionsFrom(modelPath, opts);
    const settings = {
      ...walk,
      ...(explicit('allowSymlinks') ? { allowSymlinks } : {}),
      ...(explicit('method') ? { method: opts.method } : {}),
      ...(explicit('hash') ? { hashAlgorithm: opts.hash } : {}),
      ...(explicit('shardSize') ? { shardSize: opts.shardSize } : {}),
      signaturePath: opts.signature,
    };
    if (incremental && opts.dryRun) {
      // Keys and certificates (files, PKCS#11, KMS) check the previous
      // signature with their own public key or chain: the dry run reads it, never signs.
      const signer = incremental.verifier ? undefined : await createSigner(method, opts);
      return await reportPlan(reporter, { ...settings, incremental, ...(signer ? { signer } : {}) });
    }
    const signer = await createSigner(method, opts);
    const appending = isClaimsFile(opts.signature) && fs.existsSync(opts.signature);
    const result = await signModel({
      ...settings,
      signer,
      ...(incremental ? { incremental } : {}),
      ...timestampAuthorityOf(method, opts),
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
    progress.stop();
    const digest = `sha256:${rootDigest(result.manifest.resources)}`;
    const { reuse } = result;
    const reused = incremental
      ? `; ${reuse.reusedFiles} files (${reuse.reusedBytes} bytes) reused, ${reuse.rehashedFiles} files (${reuse.rehashedBytes} bytes) hashed`
      : '';
    const wrote = appending ? 'appended to' : isClaimsFile(opts.signature) ? 'created' : 'wrote';
    const tsa = printableTsaUrl(opts);
    const timestamped = tsa !== undefined ? `; timestamped by ${tsa}` : '';
    reporter.success(
      `Signing succeeded: ${wrote} ${opts.signature} (${result.manifest.resources.length} digests, ${digest}${reused}${timestamped})`,
      {
        signature: result.signaturePath,
        method: signer.method,
        model: result.manifest.modelName,
        digest,
        resources: result.manifest.resources.length,
        serialization: result.manifest.serialization,
        incremental: incremental !== undefined,
        reuse,
        ...(tsa !== undefined ? { timestampAuthority: tsa } : {}),
      },
    );
    return 0;
  } catch (err) {
    progress.stop();
    return reportFailure(err, 'Signing', opts.json);
  }
}

/** `--dry-run`: what an incremental sign would re-hash and reuse; reads no file and writes nothing. */
async function reportPlan(
  reporter: Reporter,
  options: Parameters<Awaited<ReturnType<typeof loadCoreInternals>>['planIncrementalSign']>[0],
): Promise<number> {
  const plan = await (await loadCoreInternals()).planIncrementalSign(options);
  const lines = [
    ...plan.rehashed.map((f) => `hash   ${f.name} (${f.reason}, ${f.size} bytes)`),
    ...plan.reused.map((f) => `reuse  ${f.name} (${f.size} bytes)`),
    `Dry run: ${plan.rehashedFiles} files (${plan.rehashedBytes} bytes) would be hashed, ${plan.reusedFiles} files (${plan.reusedBytes} bytes) reused; nothing written`,
  ];
  reporter.success(lines, { dryRun: true, ...plan });
  return 0;
}

const METHOD_HELP: Record<SignCommandMethod, { description: string; example: string }> = {
  sigstore: {
    description: 'Sign keyless with Sigstore: an OIDC identity, a Fulcio certificate and a Rekor log entry (default method)',
    example:
      '  $ model-signing sign ./my-model                       # browser sign-in\n  $ model-signing sign sigstore ./my-model --use-ambient-credentials   # in GitHub Actions',
  },
  key: {
    description: 'Sign with an elliptic-curve private key (P-256, P-384 or P-521): a PEM file or an AWS KMS key',
    example:
      '  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig\n  $ model-signing sign key ./my-model --private-key kms://aws/alias/model-signing   # AWS_REGION from the environment',
  },
  certificate: {
    description: 'Sign with a private key and its X.509 certificate (the chain goes into the signature)',
    example:
      '  $ model-signing sign certificate ./my-model --private-key key.pem \\\n      --signing-certificate leaf.pem --certificate-chain intermediate.pem',
  },
  'pkcs11-key': {
    description: 'Sign with an elliptic-curve key on a PKCS#11 token (HSM, smart card, SoftHSM); verify with `verify key`',
    example:
      "  $ model-signing sign pkcs11-key ./my-model \\\n      --pkcs11-uri 'pkcs11:token=ci;object=model-key?pin-source=/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so'",
  },
  'pkcs11-certificate': {
    description: 'Sign with a key on a PKCS#11 token and its X.509 certificate; verify with `verify certificate`',
    example:
      "  $ model-signing sign pkcs11-certificate ./my-model --pkcs11-uri 'pkcs11:token=ci;object=model-key?pin-source=/run/pin' \\\n      --module-path /usr/lib/softhsm/libsofthsm2.so --signing-certificate leaf.pem --certificate-chain intermediate.pem",
  },
};

/** `model-signing sign <method> MODEL`. */
export function signCommands(setExitCode: (code: number) => void): Command {
  const sign = new Command('sign').description('Sign a model: hash every file and write a signature (Sigstore bundle)').addHelpText(
    'after',
    `
Examples:
${METHOD_HELP.key.example}
${METHOD_HELP.certificate.example}
${METHOD_HELP['pkcs11-key'].example}
  $ model-signing sign key ./my-model --private-key key.pem --method shards --hash blake2b
  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig --incremental   # after editing README.md
  $ model-signing sign key ./my-model --private-key key.pem --signature ./my-model/claims.jsonl   # append to the claims file
  $ model-signing sign certificate ./my-model --private-key key.pem --signing-certificate leaf.pem \\
      --tsa-url https://timestamp.sigstore.dev/api/v1/timestamp   # RFC 3161 timestamp (docs/timestamps.md)
  $ model-signing sign key oci://ghcr.io/my-org/my-model:v1 --private-key key.pem   # from the manifest, stored in the registry (docs/oci.md)
  $ model-signing sign key oci-manifest.json --private-key key.pem   # from oras manifest fetch or skopeo inspect --raw
${METHOD_HELP.sigstore.example}`,
  );
  for (const method of ['sigstore', 'key', 'certificate', 'pkcs11-key', 'pkcs11-certificate'] as const) {
    const cmd = new Command(method)
      .description(METHOD_HELP[method].description)
      .argument(
        '<model>',
        'model directory, single model file, OCI image manifest (.json) or registry reference (oci://host/repository:tag)',
      );
    cmd.option(
      '--signature <path>',
      'where to write the signature; a path ending in .jsonl (claims.jsonl) is a claims file, to which the signature is appended as one line',
      'model.sig',
    );
    addModelOptions(cmd);
    addHashOptions(cmd);
    addSignerOptions(cmd, method);
    addIncrementalOptions(cmd, method);
    addOciOptions(cmd, 'sign');
    cmd.addHelpText('after', `\nExample:\n${METHOD_HELP[method].example}`);
    cmd.action(async (model: string, opts: SignOptions, self: Command) => setExitCode(await runSign(method, model, opts, self)));
    sign.addCommand(cmd);
  }
  return sign;
}
