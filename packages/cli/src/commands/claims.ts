import path from 'node:path';
import { Command } from 'commander';
import type { CheckedClaim, ClaimsWarning, SignerInfo, Verifier, VerifyClaimsResult } from '@model-signing/core';
import { loadCore, loadCoreInternals, loadCoreNeutralInternals } from '../load-core.js';
import { UsageError, createReporter, reportFailure } from '../output.js';
import { hashProgressBar } from '../progress.js';
import { addHashOptions, addModelOptions, positiveInteger, walkOptionsFrom, type HashOptions, type ModelOptions } from './common.js';
import { createVerifier } from './verifiers.js';

const repeatable = (value: string, previous: string[]) => [...previous, value];

/** The verifiers of other parties' claims, spelled `--public-key` (for `claims`) or `--claims-public-key` (for `verify --claims`). */
export interface ClaimVerifierCliOptions {
  publicKey?: string[];
  certificateChain?: string[];
  identity?: string[];
  identityProvider?: string;
  trustConfig?: string;
  useStaging?: boolean;
  offline?: boolean;
}

type Prefix = '' | 'claims-';

/** The option's attribute name under a prefix: `claims-public-key` is `claimsPublicKey`. */
function attribute(prefix: Prefix, name: keyof ClaimVerifierCliOptions): string {
  return prefix === '' ? name : `claims${name[0].toUpperCase()}${name.slice(1)}`;
}

/** Reads the claim verifier options of a command, whatever their prefix. */
export function claimVerifierOptionsOf(opts: Record<string, unknown>, prefix: Prefix): ClaimVerifierCliOptions {
  const get = <K extends keyof ClaimVerifierCliOptions>(name: K) => opts[attribute(prefix, name)] as ClaimVerifierCliOptions[K];
  return {
    publicKey: get('publicKey') ?? [],
    certificateChain: get('certificateChain') ?? [],
    identity: get('identity') ?? [],
    identityProvider: get('identityProvider'),
    trustConfig: get('trustConfig'),
    useStaging: get('useStaging') ?? false,
    offline: get('offline') ?? false,
  };
}

/**
 * Adds the options naming whose claims count: keys, certificate anchors and
 * Sigstore identities, each repeatable. A claim verifies when one of them
 * accepts its signature.
 */
export function addClaimVerifierOptions(cmd: Command, prefix: Prefix): Command {
  const whose = prefix === '' ? 'a party whose claims count' : 'a party whose claims count (besides the model signer)';
  return cmd
    .option(`--${prefix}public-key <path>`, `PEM public key of ${whose}; repeatable`, repeatable, [])
    .option(`--${prefix}certificate-chain <path>`, `PEM trust anchor for certificate-signed claims; repeatable`, repeatable, [])
    .option(`--${prefix}identity <identity>`, `Sigstore identity (certificate SAN) of ${whose}; repeatable`, repeatable, [])
    .option(`--${prefix}identity-provider <issuer>`, `the OIDC issuer of those Sigstore identities`)
    .option(`--${prefix}trust-config <path>`, 'Sigstore ClientTrustConfig JSON for those identities (a private instance)')
    .option(`--${prefix}use-staging`, "verify those identities against Sigstore's staging instance", false)
    .option(`--${prefix}offline`, 'never contact TUF for those identities; use the trusted roots shipped with the package', false);
}

/** Builds one verifier per key, one for all certificate anchors, and one per Sigstore identity. */
export async function createClaimVerifiers(opts: ClaimVerifierCliOptions, prefix: Prefix): Promise<Verifier[]> {
  const flag = (name: string) => `--${prefix}${name}`;
  const verifiers: Verifier[] = [];
  for (const publicKey of opts.publicKey ?? []) verifiers.push(await createVerifier('key', { publicKey }));
  if ((opts.certificateChain ?? []).length > 0)
    verifiers.push(await createVerifier('certificate', { certificateChain: opts.certificateChain! }));
  const identities = opts.identity ?? [];
  if (identities.length > 0 && opts.identityProvider === undefined) {
    throw new UsageError(`${flag('identity')} needs ${flag('identity-provider')}: the OIDC issuer that vouched for it`);
  }
  for (const identity of identities) {
    verifiers.push(
      await createVerifier('sigstore', {
        identity,
        identityProvider: opts.identityProvider!,
        useStaging: opts.useStaging ?? false,
        offline: opts.offline ?? false,
        ...(opts.trustConfig !== undefined ? { trustConfig: opts.trustConfig } : {}),
      }),
    );
  }
  return verifiers;
}

/** Who signed, in a few words: the key hint, the certificate subject, or the identity and issuer. */
export function describeSigner(signer: SignerInfo): string {
  if (signer.method === 'sigstore' && signer.identity !== undefined) return `${signer.identity} (${signer.issuer ?? 'unknown issuer'})`;
  if (signer.method === 'certificate' && signer.certificateSubject !== undefined) return `certificate ${signer.certificateSubject}`;
  if (signer.publicKeyHint !== undefined) return `key ${signer.publicKeyHint.slice(0, 16)}…`;
  return `${signer.method} signature`;
}

/** Human lines for checked claims: one header line per claim, its predicate shown below it, then skipped lines. */
export async function renderClaims(result: VerifyClaimsResult, file: string): Promise<string[]> {
  const { describePredicate } = await loadCoreNeutralInternals();
  const lines = [`Claims in ${file}: ${result.claims.length} (${result.claims.filter((c) => c.verified).length} verified)`];
  for (const claim of result.claims) {
    const { title, lines: shown } = claim.isSignature
      ? { title: 'OMS signature', lines: [] }
      : describePredicate(claim.predicateType, claim.predicate);
    const signer = claim.signatureVerified ? describeSigner(claim.signer) : `${describeSigner(claim.signer)}, unverified`;
    const verdict = claim.verified ? 'verified' : `NOT verified: ${claim.failure?.message ?? 'unknown reason'}`;
    lines.push(
      `line ${claim.line}: ${title} <${claim.predicateType}> by ${signer}; subject ${claim.subjectMatch ? 'is this model' : 'is another model'}; ${verdict}`,
    );
    // A predicate is shown only when it verified: an unverified one is anybody's word.
    if (claim.verified) lines.push(...shown.map((l) => `    ${l}`));
  }
  for (const warning of result.warnings) lines.push(`skipped: ${warning.message} [${warning.code}]`);
  return lines;
}

/** The JSON form of checked claims. */
export function claimsJson(result: VerifyClaimsResult, file: string): Record<string, unknown> {
  return {
    file,
    claims: result.claims.map((c: CheckedClaim) => ({ ...c })),
    skipped: result.warnings.map((w: ClaimsWarning) => ({ ...w })),
  };
}

/** Checks the claims in `file` against `rootDigest` with `verifiers`. */
export async function checkClaimsFile(file: string, rootDigest: string | string[], verifiers: Verifier[], maxBundleBytes?: number) {
  const { openClaimsFile, verifyClaims } = await loadCore();
  return verifyClaims({
    claims: await openClaimsFile(file),
    rootDigest,
    verifiers,
    ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}),
  });
}

type ClaimsOptions = ModelOptions & HashOptions & { signature: string; maxBundleSize?: number } & Record<string, unknown>;

/** `model-signing claims MODEL`: every line of a claims file, checked against the model. */
export function claimsCommand(setExitCode: (code: number) => void): Command {
  const cmd = new Command('claims')
    .description(
      "List the claims in a claims file (claims.jsonl): each line's predicate type, signer, whether it is about this model, and whether it verifies with the keys and identities given; model cards and other predicates are shown readably once verified",
    )
    .argument('<model>', 'model directory or single model file (hashed, as for signing, to know its root digest)')
    .option('--signature <path>', 'the claims file', 'claims.jsonl')
    .option('--max-bundle-size <bytes>', 'longest line to read (default: 64 MiB)', positiveInteger);
  addClaimVerifierOptions(cmd, '');
  addModelOptions(cmd);
  addHashOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ model-signing claims ./my-model --signature ./my-model/claims.jsonl --public-key owner.pub --public-key evaluator.pub
  $ model-signing claims ./my-model --signature claims.jsonl \\
      --identity ci@example.com --identity-provider https://token.actions.githubusercontent.com --json

Claims are checked against the model's root digest computed as signing does: pass the
hashing options the model was signed with (--method, --hash, --shard-size).`,
  );
  return cmd.action(async (model: string, opts: ClaimsOptions) => {
    const reporter = createReporter(opts.json);
    const progress = hashProgressBar('Hashing', opts.progress && !opts.json);
    try {
      const { hashModel } = await loadCore();
      const { subjectDigest } = await loadCoreInternals();
      const verifiers = await createClaimVerifiers(claimVerifierOptionsOf(opts, ''), '');
      const walk = await walkOptionsFrom(model, opts);
      const manifest = await hashModel({
        ...walk,
        // The claims file may lie in the model: it is never part of it.
        ignorePaths: [...walk.ignorePaths, path.resolve(opts.signature)],
        method: opts.method,
        hashAlgorithm: opts.hash,
        shardSize: opts.shardSize,
        ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
      });
      progress.stop();
      const digest = subjectDigest(manifest);
      const result = await checkClaimsFile(opts.signature, digest, verifiers, opts.maxBundleSize);
      reporter.success([`Model ${manifest.modelName}: sha256:${digest}`, ...(await renderClaims(result, opts.signature))], {
        model: manifest.modelName,
        digest: `sha256:${digest}`,
        ...claimsJson(result, opts.signature),
      });
      setExitCode(0);
    } catch (err) {
      progress.stop();
      setExitCode(reportFailure(err, 'Reading claims', opts.json));
    }
  });
}
