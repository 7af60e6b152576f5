import { Command } from 'commander';
import { loadCore } from '../load-core.js';
import { UsageError, createReporter } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addModelOptions, positiveInteger, walkOptionsFrom, type ModelOptions } from './common.js';
import { addOciOptions, runOci, type OciCliOptions } from './oci.js';
import {
  POLICY_OFFLINE,
  addIdentityOptions,
  extraClaimsFile,
  identityOf,
  reportPolicyFailure,
  type IdentityCliOptions,
  type PolicyCliOptions,
} from './policy.js';
import { addVerifierOptions } from './verifiers.js';

type VerifyPolicyOptions = ModelOptions &
  PolicyCliOptions &
  OciCliOptions &
  IdentityCliOptions & {
    policy: string;
    signature: string;
    claimsFile?: string;
    ignoreUnsignedFiles: boolean;
    maxBundleSize?: number;
    trustCache: boolean;
    ignoreAttPaths: boolean;
    progress: boolean;
  };

/** The verifier options of the methods, which a policy replaces: named if given. */
function refuseVerifierOptions(cmd: Command, hidden: readonly string[]): void {
  const given = cmd.options.filter((o) => hidden.includes(o.attributeName()) && cmd.getOptionValueSource(o.attributeName()) === 'cli');
  if (given.length > 0) {
    throw new UsageError(
      `${given.map((o) => o.long).join(', ')} cannot be used with --policy: the policy's authorities say who must sign (docs/policy.md)`,
    );
  }
}

/**
 * `model-signing verify --policy POLICY MODEL`: the `policy` method of
 * `verify`, placed by argv.ts when `--policy` is given without a method.
 */
export function verifyPolicyCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('policy')
    .description('Verify under a trust policy: its matching rule says who must sign (k of n) and which claims must hold')
    .argument(
      '<model>',
      'model directory, single model file, OCI manifest file, or registry reference (oci://host/repository:tag: a verified pull under the policy)',
    )
    .requiredOption('--policy <path>', 'the trust policy (JSON or YAML; docs/policy.md)')
    .option('--signature <path>', 'the signature file: one bundle (model.sig), or a claims file (claims.jsonl)', 'model.sig')
    .option(
      '--claims-file <path>',
      'more claims to read (default: claims.jsonl beside a model.sig, if there is one; for oci://…, beside --signature when given, else none)',
    )
    .option('--max-bundle-size <bytes>', 'largest signature file to read (default: 64 MiB)', positiveInteger)
    .option('--ignore-unsigned-files', 'tolerate files the signature does not cover', false)
    .option('--no-ignore-unsigned-files', 'fail on files the signature does not cover (default)')
    .option('--trust-cache', 'skip reading files the local hash record proves unchanged (docs/incremental.md)', false);
  addIdentityOptions(cmd);
  addModelOptions(cmd);
  addOciOptions(cmd, 'verify');
  // The methods' verifier options, hidden: given with --policy, they are refused by name rather than as unknown.
  // Their --offline is the policy's too (for its Sigstore authorities).
  const before = new Set(cmd.options.map((o) => o.attributeName()));
  addVerifierOptions(cmd);
  const hidden = cmd.options.filter((o) => !before.has(o.attributeName()) && o.attributeName() !== 'offline');
  const offline = cmd.options.find((o) => o.attributeName() === 'offline')!;
  offline.description = POLICY_OFFLINE;
  for (const o of hidden) o.hidden = true;
  const hiddenNames = hidden.map((o) => o.attributeName());
  cmd.addHelpText(
    'after',
    `
Examples:
  $ model-signing verify --policy policy.yaml ./my-model --signature ./my-model/claims.jsonl
  $ model-signing verify --policy policy.yaml ./downloaded --repo my-org/tiny --revision 3f2a… --signature ./downloaded/model.sig
  $ model-signing verify --policy policy.yaml oci://ghcr.io/my-org/my-model:v1 --output ./my-model

--policy takes the place of the method and its verifier options (--public-key, --identity, …): the
policy's authorities say who must sign. The rules match the model's real path, or --repo/--url/--oci;
an oci://… reference is matched as itself (registry/repository:tag, pinned by the manifest's digest),
the signers counted from the signatures stored in the registry (or --signature), the claims from --claims-file.
A refusal prints the decision: which rule, which requirement, and what each line showed.`,
  );
  cmd.action(async (model: string, opts: VerifyPolicyOptions) => {
    refuseVerifierOptions(cmd, hiddenNames);
    // A registry reference or an OCI manifest: the OCI side, under the policy.
    const oci = await runOci('verify', 'policy', model, opts, cmd);
    if (oci !== undefined) {
      setExitCode(oci);
      return;
    }
    const reporter = createReporter(opts.json);
    const progress = hashProgressBar('Verifying', opts.progress && !opts.json);
    try {
      const core = await loadCore();
      const identity = await identityOf(model, opts);
      const policy = await core.loadPolicy(opts.policy, { offline: opts.offline });
      const claimsPath = extraClaimsFile(opts.signature, opts.claimsFile);
      const result = await core.verifyModel({
        ...(await walkOptionsFrom(model, opts)),
        signaturePath: opts.signature,
        policy,
        model: identity,
        ...(claimsPath !== undefined ? { claimsPath } : {}),
        ignoreUnsignedFiles: opts.ignoreUnsignedFiles,
        maxBundleBytes: opts.maxBundleSize,
        trustCache: opts.trustCache,
        ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
      });
      progress.stop();
      const decision = result.policy!.decision;
      const matched = result.source.line !== undefined ? ` (matched line ${result.source.line} of ${opts.signature})` : '';
      const notChecked = result.notChecked.length > 0 ? `; not checked (excluded when signed): ${result.notChecked.join(', ')}` : '';
      reporter.success(
        [`Verification succeeded under policy ${opts.policy}${matched}${notChecked}`, ...core.formatDecision(decision).slice(1)],
        {
          model: result.manifest.modelName,
          digest: `sha256:${result.manifest.rootDigest}`,
          signer: result.signer,
          signers: result.policy!.signers,
          claims: result.claims,
          decision,
          files: result.files.length,
          notChecked: result.notChecked,
          serialization: result.manifest.serialization,
          reuse: result.reuse,
        },
      );
      setExitCode(0);
    } catch (err) {
      progress.stop();
      setExitCode(await reportPolicyFailure(err, 'Verification', opts.json));
    }
  });
  return cmd;
}
