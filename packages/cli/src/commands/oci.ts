// Models in OCI registries: `sign <method> oci://…` and `sign <method>
// manifest.json` sign a model from its image manifest (no layer is
// downloaded), `verify <method> oci://…` verifies it streaming every layer
// (and keeps the verified files with --output); `verify --policy POLICY
// oci://…` the same under a trust policy. Everything else about `sign` and
// `verify` is theirs; this file adds the registry side.
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { ModelIdentity, Policy, PolicyOutcome, SigningMethod, VerifiedClaim, Verifier } from '@model-signing/core';
import { loadCore, loadCoreInternals } from '../load-core.js';
import { UsageError, createReporter, reportFailure } from '../output.js';
import { createProgressBar } from '../progress.js';
import { identityOf, reportPolicyFailure, type IdentityCliOptions } from './policy.js';
import { createVerifier, type VerifierCliOptions } from './verifiers.js';
import { createSigner, timestampAuthorityOf, type SignCommandMethod, type SignerCliOptions } from './signers.js';

/** The OCI options of `sign` and `verify`. */
export interface OciCliOptions {
  /** Undefined: a `.json` file that holds an image manifest is one; true: it must be; false: it is a model file. */
  ociManifest?: boolean;
  includeConfig?: boolean;
  plainHttp?: boolean;
  registryConfig?: string;
  pushSignature?: boolean;
  output?: string;
}

const OCI_SCHEME = 'oci://';
// Kept here rather than imported so `--help` never loads the OCI package.
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Adds the registry options: for `sign` the manifest's, for `verify` the pull's. */
export function addOciOptions(cmd: Command, kind: 'sign' | 'verify'): Command {
  cmd
    .option(
      '--oci-manifest',
      kind === 'sign'
        ? 'MODEL is an OCI image manifest (from oras manifest fetch or skopeo inspect --raw): sign its layers by the digests it lists, none downloaded (default for a .json file that holds one)'
        : 'MODEL is an OCI image manifest: check that it lists the signed layers with the signed digests, reading no layer (default for a .json file that holds one)',
    )
    .option('--no-oci-manifest', 'MODEL is a model file, even if it holds an OCI manifest');
  if (kind === 'sign') {
    cmd
      .option(
        '--include-config',
        "with an OCI manifest: sign its config blob too, as config.json (the Go port's default; oras pull does not write it)",
      )
      .option('--no-push-signature', 'with oci://…: do not store the signature in the registry (only in --signature)');
  } else {
    cmd.option(
      '--output <dir>',
      'with oci://…: keep the verified model in this new or empty folder (each layer written under its name once its bytes matched, and the signature as model.sig); without it nothing is kept',
    );
  }
  return cmd
    .option('--plain-http', 'with oci://…: speak plain HTTP to the registry (a registry on loopback), as oras --plain-http', false)
    .option(
      '--registry-config <path>',
      'with oci://…: the Docker config file with the registry credentials (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)',
    );
}

/**
 * What MODEL is: a registry reference, an image manifest file, or
 * (undefined) a model on disk, as `--oci-manifest` says or, without it, as
 * the file holds (a `.json` file with `schemaVersion` 2 and `layers`, as the
 * Go port detects one).
 */
async function ociTarget(model: string, opts: OciCliOptions): Promise<'reference' | 'manifest' | undefined> {
  if (model.startsWith(OCI_SCHEME)) return 'reference';
  if (opts.ociManifest !== undefined) return opts.ociManifest ? 'manifest' : undefined;
  if (!model.toLowerCase().endsWith('.json')) return undefined;
  const stat = await fs.stat(model).catch(() => undefined);
  if (!stat?.isFile() || stat.size > MAX_MANIFEST_BYTES) return undefined;
  const { looksLikeImageManifest } = await import('@model-signing/oci');
  return looksLikeImageManifest(await fs.readFile(model)) ? 'manifest' : undefined;
}

/** Options that only a registry reference uses. */
const REGISTRY_ONLY = ['plainHttp', 'registryConfig', 'pushSignature', 'output'];
/** Options that only an OCI manifest (a file or a reference) uses. */
const OCI_ONLY = ['includeConfig'];
/** Options of a model on disk, typed for an OCI manifest: each layer is taken whole, by the sha256 digest the manifest lists. */
const NOT_FOR_OCI = {
  sign: ['method', 'hash', 'shardSize', 'incremental', 'allowSymlinks', 'workers'],
  verify: ['trustCache', 'claims', 'claimsFile', 'allowSymlinks', 'workers', 'ignorePaths', 'ignoreGitPaths'],
};

/** Options a trust policy reads for an OCI target: the claims its requirements count. */
const POLICY_FOR_OCI = ['claimsFile'];

/**
 * The first of `names` typed on the command line, as its flag: the `--no-`
 * form when that is what set it (commander keeps one value for `--x` and
 * `--no-x`; a negated flag is the only one that sets `false`).
 */
function typed(cmd: Command, names: readonly string[]): string | undefined {
  const name = names.find((n) => cmd.getOptionValueSource(n) === 'cli');
  if (name === undefined) return undefined;
  const forms = cmd.options.filter((o) => o.attributeName() === name);
  const negated = cmd.getOptionValue(name) === false;
  return (forms.find((o) => o.negate === negated) ?? forms[0])?.long ?? name;
}

/**
 * Runs `sign` or `verify` for an OCI target (a registry reference, a
 * manifest file) and returns its exit code; undefined for a model on disk,
 * which the command handles (after refusing options only OCI targets use).
 */
export async function runOci(
  kind: 'sign' | 'verify',
  method: SignCommandMethod | 'policy',
  model: string,
  opts: SignOciOptions | VerifyOciOptions,
  cmd: Command,
): Promise<number | undefined> {
  let target: 'reference' | 'manifest' | undefined;
  try {
    target = await ociTarget(model, opts);
    const refuse = (names: readonly string[], why: string) => {
      const flag = typed(cmd, names);
      if (flag !== undefined) throw new UsageError(`${flag} ${why}`);
    };
    if (target !== 'reference') refuse(REGISTRY_ONLY, 'applies only to oci://… references');
    if (target === undefined) refuse(OCI_ONLY, 'applies only to OCI manifests and oci://… references');
    else if (kind === 'sign') {
      refuse(
        NOT_FOR_OCI.sign,
        'does not apply to an OCI manifest: each layer is signed whole, by the sha256 digest the manifest lists (pull the model and sign the folder for other settings)',
      );
    } else {
      refuse(
        NOT_FOR_OCI.verify.filter((name) => method !== 'policy' || !POLICY_FOR_OCI.includes(name)),
        'applies to a model on disk, not to an OCI manifest or reference (pull the model with --output, then verify the folder)',
      );
      if (method === 'policy' && target === 'reference') {
        refuse(['repo', 'url', 'oci'], 'cannot be used with an oci://… reference: the policy matches the reference itself');
      }
    }
  } catch (err) {
    return reportFailure(err, kind === 'sign' ? 'Signing' : 'Verification', opts.json);
  }
  if (target === undefined) return undefined;
  if (kind === 'sign') return runSignOci(method as SignCommandMethod, model, opts as SignOciOptions);
  const verify = opts as VerifyOciOptions;
  return target === 'reference'
    ? runVerifyOci(method as SigningMethod | 'policy', model, verify, cmd)
    : runVerifyManifest(method as SigningMethod | 'policy', model, verify);
}

function registryParams(opts: OciCliOptions) {
  return { plainHttp: opts.plainHttp ?? false, ...(opts.registryConfig !== undefined ? { dockerConfig: opts.registryConfig } : {}) };
}

type SignOciOptions = OciCliOptions & SignerCliOptions & { signature: string; ignorePaths: string[]; json: boolean; progress: boolean };

/** `sign <method> oci://…` and `sign <method> manifest.json`. */
async function runSignOci(method: SignCommandMethod, model: string, opts: SignOciOptions): Promise<number> {
  const reporter = createReporter(opts.json);
  try {
    const reference = model.startsWith(OCI_SCHEME);
    const { signOciManifest } = await import('@model-signing/oci');
    const { rootDigest } = await loadCore();
    const { writeSignature } = await loadCoreInternals();
    const signer = await createSigner(method, opts);
    const result = await signOciManifest({
      ...(reference ? { reference: model, push: opts.pushSignature ?? true } : { manifestPath: model }),
      ...registryParams(opts),
      signer,
      includeConfig: opts.includeConfig ?? false,
      ignorePaths: opts.ignorePaths,
      ...timestampAuthorityOf(method, opts),
      onProgress: (p) => {
        if (p.phase === 'signing' && method === 'sigstore') reporter.info('Signing with Sigstore…');
      },
    });
    await writeSignature(opts.signature, result.bundle);
    const digest = `sha256:${rootDigest(result.manifest.resources)}`;
    const bytes = result.files.reduce((n, f) => n + f.size, 0);
    const what = result.reference ?? `${model} (${result.subject.digest})`;
    const pushed = result.pushed
      ? `; stored in the registry as ${result.pushed.digest}${result.pushed.referrersApi ? ' (referrers API)' : ` (referrers tag ${result.pushed.fallbackTag})`}`
      : '';
    reporter.success(
      `Signing succeeded: wrote ${opts.signature} for the OCI manifest ${what}: ${result.files.length} ${result.files.length === 1 ? 'layer' : 'layers'}, ${bytes} bytes, none downloaded (${digest})${pushed}`,
      {
        signature: opts.signature,
        method: signer.method,
        model: result.manifest.modelName,
        digest,
        resources: result.manifest.resources.length,
        serialization: result.manifest.serialization,
        oci: {
          manifest: result.subject,
          ...(result.reference !== undefined ? { reference: result.reference } : {}),
          files: result.files.map((f) => ({ name: f.name, digest: f.descriptor.digest, size: f.size })),
          ...(result.pushed ? { pushed: result.pushed } : {}),
        },
      },
    );
    return 0;
  } catch (err) {
    return reportFailure(err, 'Signing', opts.json);
  }
}

type VerifyOciOptions = OciCliOptions &
  VerifierCliOptions &
  IdentityCliOptions & {
    signature: string;
    ignoreUnsignedFiles: boolean;
    ignoreAttPaths: boolean;
    maxBundleSize?: number;
    json: boolean;
    progress: boolean;
    /** `verify --policy`: the policy file, the claims file it reads. */
    policy?: string;
    claimsFile?: string;
  };

/** Who judges an OCI model: the method's verifier, or the trust policy (with the claims file it reads). */
async function ociTrust(
  method: SigningMethod | 'policy',
  opts: VerifyOciOptions,
): Promise<{ verifier: Verifier } | { policy: Policy; claimsPath?: string }> {
  if (method !== 'policy') return { verifier: await createVerifier(method, opts) };
  const policy = await (await loadCore()).loadPolicy(opts.policy!, { offline: opts.offline ?? false });
  return { policy, ...(opts.claimsFile !== undefined ? { claimsPath: opts.claimsFile } : {}) };
}

/** What `--json` adds under a policy: its decision, the signers counted and the claims that met the rule. */
function policyJson(result: { claims: VerifiedClaim[]; policy?: PolicyOutcome }): Record<string, unknown> {
  return result.policy ? { decision: result.policy.decision, signers: result.policy.signers, claims: result.claims } : {};
}

/** The success line under a policy, with the decision after it; the line alone otherwise. */
async function withDecision(line: string, opts: VerifyOciOptions, outcome: PolicyOutcome | undefined): Promise<string[]> {
  if (!outcome) return [line];
  const under = line.replace(/^Verification succeeded/, `Verification succeeded under policy ${opts.policy}`);
  return [under, ...(await loadCore()).formatDecision(outcome.decision).slice(1)];
}

/** `verify <method> oci://…` and `verify --policy POLICY oci://…`: a verified pull, kept with --output. */
async function runVerifyOci(method: SigningMethod | 'policy', model: string, opts: VerifyOciOptions, cmd: Command): Promise<number> {
  const reporter = createReporter(opts.json);
  const bar = createProgressBar(opts.output === undefined ? 'Verifying' : 'Pulling', opts.progress && !opts.json);
  try {
    const oci = await import('@model-signing/oci');
    const params = {
      reference: model,
      ...registryParams(opts),
      ...(await ociTrust(method, opts)),
      ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
      ignoreAttestationFiles: opts.ignoreAttPaths,
      ...(cmd.getOptionValueSource('signature') === 'cli' ? { signaturePath: opts.signature } : {}),
      ...(opts.maxBundleSize !== undefined ? { maxBundleBytes: opts.maxBundleSize } : {}),
      onProgress: (p: Parameters<NonNullable<Parameters<typeof oci.verifyOciModel>[0]['onProgress']>>[0]) => {
        if (p.phase === 'downloading') bar.update(p.bytesDone, p.totalBytes, p.path);
      },
    };
    const pulled = opts.output === undefined ? undefined : await oci.pullVerifiedModel({ ...params, outputDir: opts.output });
    const result = pulled ?? (await oci.verifyOciModel(params));
    bar.stop();
    const from =
      'path' in result.signature
        ? result.signature.path
        : `the registry (${result.signature.referrer}${result.signature.created ? `, made ${result.signature.created}` : ''})`;
    const kept = pulled
      ? `; pulled into ${pulled.outputDir} (signature: ${pulled.signaturePath})`
      : '; nothing was kept (--output DIR keeps the verified files)';
    const notChecked = result.notChecked.length > 0 ? `; not checked: ${result.notChecked.join(', ')}` : '';
    reporter.success(
      await withDecision(
        `Verification succeeded: ${result.reference}: ${result.files.length} ${result.files.length === 1 ? 'file' : 'files'}, each hashed as it arrived; signature from ${from}${notChecked}${kept}`,
        opts,
        result.policy,
      ),
      {
        reference: result.reference,
        model: result.manifest.modelName,
        digest: `sha256:${result.manifest.rootDigest}`,
        signer: result.signer,
        ...policyJson(result),
        files: result.files,
        notChecked: result.notChecked,
        signature: result.signature,
        ...(pulled ? { outputDir: pulled.outputDir, signaturePath: pulled.signaturePath } : {}),
      },
    );
    return 0;
  } catch (err) {
    bar.stop();
    return reportPolicyFailure(err, 'Verification', opts.json);
  }
}

/**
 * `verify <method> manifest.json` and `verify --policy POLICY manifest.json`:
 * the manifest's layers held against the signature, no layer read. Under a
 * policy the rules match the reference given with --oci (else the file's path).
 */
async function runVerifyManifest(method: SigningMethod | 'policy', model: string, opts: VerifyOciOptions): Promise<number> {
  const reporter = createReporter(opts.json);
  try {
    const { verifyOciManifest } = await import('@model-signing/oci');
    const trust = await ociTrust(method, opts);
    const identity: ModelIdentity | undefined = 'policy' in trust ? await identityOf(model, opts) : undefined;
    const result = await verifyOciManifest({
      manifestPath: model,
      signaturePath: opts.signature,
      ...trust,
      ...(identity ? { model: identity } : {}),
      ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
      ignoreAttestationFiles: opts.ignoreAttPaths,
      ...(opts.maxBundleSize !== undefined ? { maxBundleBytes: opts.maxBundleSize } : {}),
    });
    const notChecked = result.notChecked.length > 0 ? `; not checked: ${result.notChecked.join(', ')}` : '';
    reporter.success(
      await withDecision(
        `Verification succeeded: the OCI manifest ${model} (${result.subject.digest}) lists the ${result.files.length} signed ${result.files.length === 1 ? 'layer' : 'layers'} with their signed digests${notChecked}; no layer was read (verify the pulled folder, or oci://… for a verified pull, to check the bytes)`,
        opts,
        result.policy,
      ),
      {
        model: result.manifest.modelName,
        digest: `sha256:${result.manifest.rootDigest}`,
        signer: result.signer,
        ...policyJson(result),
        manifest: result.subject,
        files: result.files,
        notChecked: result.notChecked,
      },
    );
    return 0;
  } catch (err) {
    return reportPolicyFailure(err, 'Verification', opts.json);
  }
}
