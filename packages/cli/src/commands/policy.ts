import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import type { ModelIdentity, PolicyDecision, PolicyProblem } from '@model-signing/core';
import { loadCore, loadCoreInternals, loadCoreNeutralInternals } from '../load-core.js';
import { UsageError, createReporter, escapedLines, reportFailure } from '../output.js';
import { positiveInteger } from './common.js';

/** Options that say how a model was addressed, for the rules to match. */
export interface IdentityCliOptions {
  repo?: string;
  revision?: string;
  url?: string;
  oci?: string;
}

/** Options of every command that loads a policy. */
export interface PolicyCliOptions {
  offline: boolean;
  json: boolean;
}

/** Adds --repo/--revision, --url and --oci: how the model was addressed, when not by its local path. */
export function addIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--repo <id>', 'match the rules as the Hugging Face repo <namespace/name> this model was downloaded from')
    .option('--revision <rev>', 'with --repo: the revision it was downloaded at (a commit hash pins the files)')
    .option('--url <url>', 'match the rules as the http(s) URL the model was fetched from')
    .option('--oci <reference>', 'match the rules as the OCI reference (registry/repository[:tag][@digest]) it was pulled from');
}

/** What --offline means for a policy. */
export const POLICY_OFFLINE = "the policy's Sigstore authorities: never contact TUF; use the trusted roots shipped with the package";

/** Adds the options of loading a policy. */
export function addPolicyLoadOptions(cmd: Command): Command {
  return cmd.option('--offline', POLICY_OFFLINE, false);
}

/** The identity the rules match: the options given, else the model's real path. */
export async function identityOf(modelPath: string, opts: IdentityCliOptions): Promise<ModelIdentity> {
  const given = (['repo', 'url', 'oci'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} cannot be used together: a model is addressed one way`);
  if (opts.revision !== undefined && opts.repo === undefined) throw new UsageError('--revision needs --repo');
  if (opts.repo !== undefined)
    return { kind: 'huggingface', repo: opts.repo, ...(opts.revision !== undefined ? { revision: opts.revision } : {}) };
  if (opts.url !== undefined) return { kind: 'url', url: opts.url };
  if (opts.oci !== undefined) return { kind: 'oci', reference: opts.oci };
  return (await loadCoreInternals()).localModelIdentity(modelPath);
}

/**
 * Where claims are read besides the signature: `--claims-file`, else
 * `claims.jsonl` beside a signature that is not itself a claims file, when it exists.
 */
export function extraClaimsFile(signature: string, claimsFile: string | undefined): string | undefined {
  if (claimsFile !== undefined) return claimsFile;
  if (signature.endsWith('.jsonl')) return undefined;
  const beside = path.join(path.dirname(signature), 'claims.jsonl');
  return fs.existsSync(beside) ? beside : undefined;
}

/**
 * A refusal or an invalid policy, as the CLI reports them: the decision tree
 * or every problem (on stderr; `--json` puts them in the object on stdout),
 * then the one-line failure. Anything else as every command reports it.
 */
export async function reportPolicyFailure(err: unknown, what: string, json: boolean): Promise<number> {
  const e = err as { code?: unknown; decision?: PolicyDecision; problems?: PolicyProblem[]; message?: string; path?: string };
  if (e.code === 'POLICY_DENIED' && e.decision) {
    if (json) {
      process.stdout.write(
        JSON.stringify({ ok: false, error: { code: e.code, message: e.message }, decision: e.decision }, null, 2) + '\n',
      );
      return 1;
    }
    process.stderr.write(escapedLines((await loadCore()).formatDecision(e.decision)));
    return reportFailure(err, what, false);
  }
  if (e.code === 'POLICY_INVALID' && e.problems) {
    if (json) {
      process.stdout.write(
        JSON.stringify({ ok: false, error: { code: e.code, message: e.message, problems: e.problems } }, null, 2) + '\n',
      );
      return 1;
    }
    const { describeProblem } = await loadCoreNeutralInternals();
    const name = e.path ?? 'the policy';
    const count = `${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}`;
    process.stderr.write(
      escapedLines([`${what} failed [POLICY_INVALID]: ${name} has ${count}`, ...e.problems.map((p) => `  ${describeProblem(name, p)}`)]),
    );
    return 1;
  }
  return reportFailure(err, what, json);
}

/** The rule summaries `policy check` prints. */
function ruleSummaries(policy: Awaited<ReturnType<Awaited<ReturnType<typeof loadCore>>['loadPolicy']>>): string[] {
  return policy.rules.map((r) => {
    if (r.deny !== undefined) return `  rule '${r.name}': ${r.matcher.description}: denied (${r.deny})`;
    const { by, count } = r.signatures!;
    const signers = count === 1 ? `signed by ${by.length === 1 ? by[0] : `any of ${by.join(', ')}`}` : `${count} of ${by.join(', ')}`;
    const claims = r.claims.map((c) => `claim '${c.name}' by ${c.by.join('/')}${c.condition ? ' (with a condition)' : ''}`);
    return `  rule '${r.name}': ${r.matcher.description}: ${[signers, ...claims].join('; ')}`;
  });
}

type ExplainOptions = PolicyCliOptions &
  IdentityCliOptions & {
    signature: string;
    claimsFile?: string;
    maxBundleSize?: number;
  };

/** `model-signing policy check|explain`. */
export function policyCommands(setExitCode: (code: number) => void): Command {
  const policy = new Command('policy')
    .description('Check a trust policy, or explain what it decides for a model (docs/policy.md)')
    .addHelpText(
      'after',
      `
Examples:
  $ model-signing policy check policy.yaml
  $ model-signing policy explain policy.yaml ./my-model --signature ./my-model/claims.jsonl
  $ model-signing verify --policy policy.yaml ./my-model --signature ./my-model/claims.jsonl`,
    );

  const check = new Command('check')
    .description(
      'Validate a policy: its JSON Schema (errors with their JSON path and line), authority names, key and trust files, CEL conditions, regular expressions (RE2), rules that would tie',
    )
    .argument('<policy>', 'the policy file (JSON or YAML)')
    .option('--json', 'print a machine-readable result on stdout', false);
  addPolicyLoadOptions(check);
  check.addHelpText(
    'after',
    `
Example:
  $ model-signing policy check policy.yaml
  Policy policy.yaml is valid: 3 authorities, 2 rules
    rule 'org models': huggingface my-org/*: signed by ci; claim 'evaluation' by evaluator (with a condition)
    ...

Exit codes: 0 valid, 1 invalid (every problem is listed), 2 usage error.`,
  );
  check.action(async (file: string, opts: PolicyCliOptions) => {
    const reporter = createReporter(opts.json);
    try {
      const loaded = await (await loadCore()).loadPolicy(file, { offline: opts.offline });
      const summary = `Policy ${file} is valid: ${loaded.authorities.size} authorit${loaded.authorities.size === 1 ? 'y' : 'ies'}, ${loaded.rules.length} rule${loaded.rules.length === 1 ? '' : 's'}`;
      reporter.success([summary, ...ruleSummaries(loaded)], {
        policy: file,
        authorities: [...loaded.authorities.values()].map((a) => ({ name: a.name, accepts: a.description })),
        rules: loaded.rules.map((r) => ({ name: r.name, match: r.matcher.description, ...(r.deny !== undefined ? { deny: r.deny } : {}) })),
      });
      setExitCode(0);
    } catch (err) {
      setExitCode(await reportPolicyFailure(err, 'Policy check', opts.json));
    }
  });

  const explain = new Command('explain')
    .description(
      "Decide whether the policy accepts a model's signatures and claims, and print the decision tree: the rule, each requirement, what each line showed. The model's files are not read (verify does that)",
    )
    .argument('<policy>', 'the policy file (JSON or YAML)')
    .argument('<model>', 'the model directory or file (its path is what path rules match, unless --repo, --url or --oci)')
    .option('--signature <path>', 'the signature file: one bundle (model.sig) or a claims file (claims.jsonl)', 'model.sig')
    .option('--claims-file <path>', 'more claims to read (default: claims.jsonl beside a model.sig, if there is one)')
    .option('--max-bundle-size <bytes>', 'largest signature file to read (default: 64 MiB)', positiveInteger)
    .option('--json', 'print the decision as JSON on stdout', false);
  addIdentityOptions(explain);
  addPolicyLoadOptions(explain);
  explain.addHelpText(
    'after',
    `
Examples:
  $ model-signing policy explain policy.yaml ./tiny --signature ./tiny/claims.jsonl
  $ model-signing policy explain policy.yaml ./downloaded --repo my-org/tiny --revision 3f2a… --signature ./downloaded/claims.jsonl

Exit codes: 0 the policy accepts, 1 it refuses (the decision says why) or a file cannot be read, 2 usage error.`,
  );
  explain.action(async (file: string, model: string, opts: ExplainOptions) => {
    try {
      const core = await loadCore();
      const internals = await loadCoreInternals();
      const identity = await identityOf(model, opts);
      const loaded = await core.loadPolicy(file, { offline: opts.offline });
      const bytes = await internals.readSignatureBytes(opts.signature, { maxBundleBytes: opts.maxBundleSize });
      const claimsPath = extraClaimsFile(opts.signature, opts.claimsFile);
      const { decision } = await (
        await loadCoreNeutralInternals()
      ).explainPolicy({
        policy: loaded,
        model: identity,
        bytes,
        name: opts.signature,
        ...(claimsPath !== undefined ? { claims: { source: await core.openClaimsFile(claimsPath), name: claimsPath } } : {}),
        ...(opts.maxBundleSize !== undefined ? { maxBundleBytes: opts.maxBundleSize } : {}),
      });
      if (opts.json) process.stdout.write(JSON.stringify({ ok: decision.allowed, decision }, null, 2) + '\n');
      else process.stdout.write(escapedLines(core.formatDecision(decision)));
      setExitCode(decision.allowed ? 0 : 1);
    } catch (err) {
      setExitCode(await reportPolicyFailure(err, 'Policy explain', opts.json));
    }
  });

  return policy.addCommand(check).addCommand(explain);
}
