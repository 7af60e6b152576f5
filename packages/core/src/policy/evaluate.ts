// Runtime-neutral (no `node:*`). The decision: given a signature file's
// bytes (one bundle, or a claims.jsonl), how the model was addressed and a
// policy, which OMS signature is accepted, by whom, with which claims, and
// why; or why not. No model file is read: the accepted manifest is what the
// caller then checks the files against, which is what binds the signatures
// and claims counted here to the bytes loaded.
import { throwIfAborted } from '../cancellation.js';
import { parseClaimStatement, subjectMismatch, type Claim } from '../claims/claim.js';
import { DEFAULT_MAX_CLAIM_LINES, type ClaimsWarning } from '../claims/lines.js';
import { readClaims, type ClaimsSource } from '../claims/read-claims.js';
import { isSignaturePredicate } from '../claims/verify-claims.js';
import { signatureFileLayout, type SignatureSource } from '../claims/verify-signature-bytes.js';
import { ModelSigningError } from '../errors.js';
import { verifyBundle, type VerifiedBundle } from '../format/bundle-verification.js';
import { createHasher } from '../format/hash-algorithms.js';
import { toHex } from '../format/hex.js';
import { rootDigest, sortResources } from '../format/manifest.js';
import { PAYLOAD_TYPE } from '../format/statement.js';
import type { VerifiedManifest } from '../format/verified-manifest.js';
import type { SignerInfo } from '../format/verifier.js';
import { isOtherSigner, type Authority } from './authorities.js';
import type { CompiledClaimRequirement, CompiledRule, Policy } from './compile.js';
import {
  describeSigner,
  describeWhere,
  type Evidence,
  type MatchedRule,
  type PolicyDecision,
  type RequirementOutcome,
} from './decision.js';
import { PolicyDeniedError } from './errors.js';
import { describeIdentity, normalizeIdentity, type ModelIdentity } from './identity.js';
import { countDistinctSigners, signerIds, type AcceptedLine } from './signers.js';

/** What {@link evaluatePolicy} takes. */
export interface EvaluatePolicyParams {
  /** Cancels the decision: it rejects with `ABORTED`. */
  abortSignal?: AbortSignal;
  policy: Policy;
  /** How the model was addressed: what the rules match. */
  model: ModelIdentity;
  /** The signature file's bytes, read bounded (`maxBundleBytes`): one bundle, or a claims file. */
  bytes: Uint8Array;
  /** The signature file's name: messages use it, and a name ending in `.jsonl` is read as a claims file. Default `the signature`. */
  name?: string;
  /** More claims about the model than the signature file holds (a `claims.jsonl` beside a `model.sig`). */
  claims?: { source: ClaimsSource; name: string };
  /** The limit the signature was read under, which parsing applies again. Default 64 MiB. */
  maxBundleBytes?: number;
}

/** An authority counted toward the signature requirement, and the line it counted. */
export interface PolicySigner {
  authority: string;
  signer: SignerInfo;
  file: string;
  line?: number;
}

/** A claim counted toward a requirement: verified, about these files, its condition true. */
export interface PolicyClaim {
  /** The requirement it satisfied. */
  requirement: string;
  authority: string;
  signer: SignerInfo;
  file: string;
  line?: number;
  predicateType: string;
  predicate: unknown;
}

/** An OMS signature a policy accepted: what `verifySignatureBytes` returns, plus who counted and why. */
export interface PolicyVerifiedSignature extends VerifiedBundle {
  /** Where the accepted signature is; `file` names the file (the signature file, or the extra claims file). */
  source: SignatureSource & { file: string };
  /** Every authority counted toward the signature requirement. */
  signers: PolicySigner[];
  /** The claims that satisfied the rule's claim requirements. */
  claims: PolicyClaim[];
  decision: PolicyDecision;
}

/** What {@link explainPolicy} found: the decision, and the accepted signature when it allows. */
export interface PolicyEvaluation {
  decision: PolicyDecision;
  accepted?: PolicyVerifiedSignature;
}

/** One bundle of the signature file or the claims file. */
interface Entry {
  file: string;
  line?: number;
  claim: Claim;
  isSignature: boolean;
  /** Newer entries have higher ranks: file order within a file, the extra claims file after the signature file. */
  rank: number;
}

type Check = { ok: true; signer: SignerInfo; manifest?: VerifiedManifest } | { ok: false; error: ModelSigningError };

/** How many lines of each kind are verified at most (newest first), as for a claims file used as a signature. */
const MAX_TRIED = DEFAULT_MAX_CLAIM_LINES;
/** How many evidence items a requirement lists; the rest are counted. */
const EVIDENCE_SHOWN = 20;

/** What a bundle says of its signer before anything is checked. */
function claimedSigner(entry: Entry): string {
  const { method, publicKeyHint } = entry.claim.bundle;
  return publicKeyHint !== undefined ? `key ${publicKeyHint.slice(0, 16)}… (unverified)` : `a ${method} signature (unverified)`;
}

/** A key for "the same files": names, algorithms and digests (the root digest leaves names out). */
function filesKey(manifest: VerifiedManifest): string {
  const hash = createHasher('sha256');
  const encoder = new TextEncoder();
  for (const r of sortResources(manifest.resources)) hash.update(encoder.encode(`${r.name}\u0000${r.algorithm}\u0000${r.digest}\n`));
  return toHex(hash.digest());
}

/** The entries of the signature file and the extra claims file, newest last, and the lines skipped. */
async function readEntries(params: EvaluatePolicyParams, warnings: string[]): Promise<Entry[]> {
  const name = params.name ?? 'the signature';
  const entries: Entry[] = [];
  const add = (file: string, claims: Claim[], single: boolean) => {
    for (const claim of claims) {
      entries.push({
        file,
        ...(single ? {} : { line: claim.line }),
        claim,
        isSignature: isSignaturePredicate(claim.statement.predicateType),
        rank: entries.length,
      });
    }
  };
  const skipped = (file: string, ws: ClaimsWarning[]) => warnings.push(...ws.map((w) => `${file}: ${w.message} [${w.code}]`));
  const maxBundleBytes = params.maxBundleBytes;
  let layout: ReturnType<typeof signatureFileLayout> | undefined;
  try {
    layout = signatureFileLayout({ bytes: params.bytes, name, ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}) });
  } catch (err) {
    if (!(err instanceof ModelSigningError)) throw err;
    warnings.push(`${name}: ${err.message} [${err.code}]`);
  }
  if (layout?.bundle) {
    const bundle = layout.bundle;
    if (bundle.payloadType !== PAYLOAD_TYPE) warnings.push(`${name}: signs a '${bundle.payloadType}' payload, not an in-toto statement`);
    else {
      try {
        add(name, [{ line: 1, bundle, statement: parseClaimStatement(bundle.payload) }], true);
      } catch (err) {
        if (!(err instanceof ModelSigningError)) throw err;
        warnings.push(`${name}: ${err.message} [${err.code}]`);
      }
    }
  } else if (layout) {
    const read = await readClaims({
      claims: params.bytes,
      maxClaimsBytes: Math.max(params.bytes.length, 1),
      maxLines: Number.MAX_SAFE_INTEGER,
      ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}),
      ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
    });
    add(name, read.claims, false);
    skipped(name, read.warnings);
  }
  if (params.claims) {
    const read = await readClaims({
      claims: params.claims.source,
      ...(maxBundleBytes !== undefined ? { maxBundleBytes } : {}),
      ...(params.abortSignal ? { abortSignal: params.abortSignal } : {}),
    });
    add(params.claims.name, read.claims, false);
    skipped(params.claims.name, read.warnings);
  }
  return entries;
}

/** One decision: the state shared by its requirements (verification results, the CEL budget). */
class Decider {
  private readonly checks = new Map<Entry, Map<string, Promise<Check>>>();
  private readonly ids = new Map<Entry, Promise<string[]>>();
  private costLeft: number;
  readonly signal: AbortSignal | undefined;

  constructor(
    readonly policy: Policy,
    readonly model: ModelIdentity,
    params: EvaluatePolicyParams,
  ) {
    this.costLeft = policy.totalCostLimit;
    this.signal = params.abortSignal;
  }

  authority(name: string): Authority {
    return this.policy.authorities.get(name)!;
  }

  /** Whether `authority` accepts the entry's signature (an OMS signature also as a statement), once per pair. */
  check(entry: Entry, authorityName: string): Promise<Check> {
    let byAuthority = this.checks.get(entry);
    if (!byAuthority) this.checks.set(entry, (byAuthority = new Map<string, Promise<Check>>()));
    let check = byAuthority.get(authorityName);
    if (!check) {
      const authority = this.authority(authorityName);
      check = (async (): Promise<Check> => {
        throwIfAborted(this.signal);
        try {
          if (entry.isSignature) {
            const { signer, manifest } = await verifyBundle({ bundle: entry.claim.bundle, verifier: authority });
            return { ok: true, signer, manifest };
          }
          return { ok: true, signer: await authority.verify(entry.claim.bundle) };
        } catch (err) {
          if (err instanceof ModelSigningError && err.code !== 'ABORTED') return { ok: false, error: err };
          throw err;
        }
      })();
      byAuthority.set(authorityName, check);
    }
    return check;
  }

  signerIds(entry: Entry, signer: SignerInfo): Promise<string[]> {
    let ids = this.ids.get(entry);
    if (!ids) this.ids.set(entry, (ids = signerIds(entry.claim.bundle, signer)));
    return ids;
  }

  /** The condition over one claim, within what is left of the decision's budget. */
  condition(requirement: CompiledClaimRequirement, entry: Entry, authority: string, signer: SignerInfo): Evidence | undefined {
    const condition = requirement.condition;
    if (!condition) return undefined;
    const base = { file: entry.file, ...(entry.line !== undefined ? { line: entry.line } : {}), authority, signer: describeSigner(signer) };
    if (this.costLeft <= 0) {
      return {
        ...base,
        outcome: 'condition-error',
        message: `not evaluated: the decision spent its CEL budget (${this.policy.totalCostLimit} units)`,
      };
    }
    const limit = Math.min(this.policy.costLimit, this.costLeft);
    const outcome = condition.evaluate(
      {
        predicate: entry.claim.statement.predicate ?? null,
        predicateType: entry.claim.statement.predicateType,
        signer: { ...signer, authority },
        model: this.model,
      },
      limit,
    );
    this.costLeft -= outcome.cost;
    if (outcome.result === true) return undefined;
    if (outcome.result === false) return { ...base, outcome: 'condition-false', message: 'the condition is false', seen: outcome.seen };
    return { ...base, outcome: 'condition-error', message: `the condition failed: ${outcome.message}`, seen: outcome.seen };
  }
}

/** Why no authority accepted a line: a broken signature wins over "someone else signed it". */
function rejection(entry: Entry, failures: { authority: string; error: ModelSigningError }[]): Evidence {
  const where = { file: entry.file, ...(entry.line !== undefined ? { line: entry.line } : {}), signer: claimedSigner(entry) };
  const broken = failures.find((f) => !isOtherSigner(f.error));
  if (broken)
    return {
      ...where,
      outcome: 'signature-invalid',
      message: `its signature does not verify: ${broken.error.message} [${broken.error.code}]`,
    };
  const names = failures.map((f) => f.authority).join(', ');
  const first = failures[0];
  return {
    ...where,
    outcome: 'not-by-authority',
    message: `signed by ${claimedSigner(entry)}, not by ${names}${first ? ` (${first.authority}: ${first.error.message})` : ''}`,
  };
}

/** The first `EVIDENCE_SHOWN` items, and a note for the rest. */
function shown(evidence: Evidence[]): Evidence[] {
  if (evidence.length <= EVIDENCE_SHOWN) return evidence;
  const rest = evidence.length - EVIDENCE_SHOWN;
  return [
    ...evidence.slice(0, EVIDENCE_SHOWN),
    { file: '…', outcome: 'not-counted', message: `and ${rest} more line${rest === 1 ? '' : 's'}` },
  ];
}

/** A set of OMS signatures over the same files. */
interface Candidate {
  manifest: VerifiedManifest;
  key: string;
  /** Newest first. */
  accepted: { entry: Entry; authority: string; signer: SignerInfo }[];
}

/** A condition as one line (YAML block scalars keep their line breaks). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function requiredSigners(count: number, by: readonly string[]): string {
  if (by.length === 1) return `signed by ${by[0]}`;
  return count === 1 ? `signed by any of ${list(by)}` : `${count} distinct signers among ${list(by)}`;
}

/** The signature requirement over one candidate (or none). */
async function signatureOutcome(
  d: Decider,
  rule: CompiledRule,
  signatures: Entry[],
  rejected: Map<Entry, Evidence>,
  candidate: Candidate | undefined,
  candidates: Candidate[],
): Promise<{ outcome: RequirementOutcome; signers: PolicySigner[]; newest?: Candidate['accepted'][number] }> {
  const { by, count } = rule.signatures!;
  const required = requiredSigners(count, by);
  const lines: AcceptedLine<Candidate['accepted'][number]>[] = [];
  for (const a of candidate?.accepted ?? []) lines.push({ line: a, authority: a.authority, ids: await d.signerIds(a.entry, a.signer) });
  const distinct = countDistinctSigners(lines);
  const countedEntries = new Map([...distinct.counted].map(([authority, a]) => [a.entry, { ...a, authority }]));
  const evidence: Evidence[] = [];
  for (const entry of signatures) {
    const where = { file: entry.file, ...(entry.line !== undefined ? { line: entry.line } : {}) };
    const counted = countedEntries.get(entry);
    const mine = candidate?.accepted.find((a) => a.entry === entry);
    const elsewhere = candidates.find((c) => c !== candidate && c.accepted.some((a) => a.entry === entry));
    if (counted) {
      evidence.push({
        ...where,
        outcome: 'counted',
        authority: counted.authority,
        signer: describeSigner(counted.signer),
        message: `signed by ${describeSigner(counted.signer)}: counts for ${counted.authority}`,
      });
    } else if (mine) {
      const same = distinct.sameSigner.has(mine);
      evidence.push({
        ...where,
        outcome: same ? 'same-signer' : 'not-counted',
        authority: mine.authority,
        signer: describeSigner(mine.signer),
        message: same
          ? `signed by ${describeSigner(mine.signer)} again: one signer counts once`
          : `signed by ${describeSigner(mine.signer)}, but ${mine.authority} already counts for another signer`,
      });
    } else if (elsewhere) {
      evidence.push({
        ...where,
        outcome: 'other-model',
        message: `signs other files (sha256:${elsewhere.manifest.rootDigest}) than those judged here`,
      });
    } else {
      evidence.push(rejected.get(entry) ?? { ...where, outcome: 'not-by-authority', message: 'not checked' });
    }
  }
  const satisfied = distinct.count >= count;
  const countedNames = [...distinct.counted.keys()];
  let reason: string;
  if (signatures.length === 0) reason = 'the signature file holds no OMS signature';
  else if (satisfied) reason = `${list(countedNames)} signed${count > 1 ? ` (${distinct.count} distinct signers, ${count} required)` : ''}`;
  else if (distinct.count === 0) reason = `no OMS signature is by ${by.length === 1 ? by[0] : `any of ${list(by)}`}`;
  else reason = `only ${distinct.count} of the ${count} distinct signers required: ${list(countedNames)}`;
  const signers = [...distinct.counted].map(([authority, a]) => ({
    authority,
    signer: a.signer,
    file: a.entry.file,
    ...(a.entry.line !== undefined ? { line: a.entry.line } : {}),
  }));
  const newest = candidate?.accepted.find((a) => countedEntries.has(a.entry));
  return {
    outcome: { kind: 'signatures', name: 'signatures', required, satisfied, reason, evidence: shown(evidence) },
    signers,
    ...(newest ? { newest } : {}),
  };
}

/** One claim requirement over the files of `candidate` (none: nothing to be about). */
async function claimOutcome(
  d: Decider,
  requirement: CompiledClaimRequirement,
  entries: Entry[],
  candidate: Candidate | undefined,
): Promise<{ outcome: RequirementOutcome; claims: PolicyClaim[] }> {
  const roots = candidate ? [...new Set([candidate.manifest.rootDigest, rootDigest(sortResources(candidate.manifest.resources))])] : [];
  const of = entries.filter((e) => e.claim.statement.predicateType === requirement.predicateType).slice(0, MAX_TRIED);
  // Evidence per entry, listed newest first as the entries are.
  const byEntry = new Map<Entry, Evidence[]>();
  const note = (entry: Entry, e: Evidence) => byEntry.set(entry, [...(byEntry.get(entry) ?? []), e]);
  const passing: AcceptedLine<{ entry: Entry; authority: string; signer: SignerInfo }>[] = [];
  for (const entry of of) {
    throwIfAborted(d.signal);
    const where = { file: entry.file, ...(entry.line !== undefined ? { line: entry.line } : {}) };
    const failures: { authority: string; error: ModelSigningError }[] = [];
    const accepted: { authority: string; signer: SignerInfo }[] = [];
    for (const authority of requirement.by) {
      const check = await d.check(entry, authority);
      if (check.ok) accepted.push({ authority, signer: check.signer });
      else failures.push({ authority, error: check.error });
    }
    if (accepted.length === 0) {
      note(entry, rejection(entry, failures));
      continue;
    }
    const mismatch = candidate ? subjectMismatch(entry.claim, roots) : 'there are no signed files to be about';
    if (mismatch !== undefined) {
      const a = accepted[0];
      note(entry, {
        ...where,
        outcome: 'other-model',
        authority: a.authority,
        signer: describeSigner(a.signer),
        message: mismatch.replace(/^line \d+ /, 'it '),
      });
      continue;
    }
    for (const a of accepted) {
      const failed = d.condition(requirement, entry, a.authority, a.signer);
      if (failed) note(entry, failed);
      else passing.push({ line: { entry, ...a }, authority: a.authority, ids: await d.signerIds(entry, a.signer) });
    }
  }
  const distinct = countDistinctSigners(passing);
  const counted = new Set(distinct.counted.values());
  for (const { line: e } of passing) {
    const where = { file: e.entry.file, ...(e.entry.line !== undefined ? { line: e.entry.line } : {}) };
    const outcome = counted.has(e) ? 'counted' : distinct.sameSigner.has(e) ? 'same-signer' : 'not-counted';
    const what = requirement.condition ? 'verified, about these files, and the condition holds' : 'verified and about these files';
    note(e.entry, {
      ...where,
      outcome,
      authority: e.authority,
      signer: describeSigner(e.signer),
      message: outcome === 'counted' ? `${what}: counts for ${e.authority}` : `${what}, but its signer already counts`,
    });
  }
  const evidence = of.flatMap((entry) => byEntry.get(entry) ?? []);
  const satisfied = distinct.count >= requirement.count;
  const by = requirement.by.length === 1 ? requirement.by[0] : `any of ${list(requirement.by)}`;
  const required = `${requirement.count > 1 ? `${requirement.count} distinct signers among ${list(requirement.by)}` : `by ${by}`}, <${requirement.predicateType}>${requirement.condition ? ` where ${oneLine(requirement.condition.source)}` : ''}`;
  let reason: string;
  if (satisfied) reason = `${list([...distinct.counted.keys()])} attested`;
  else if (of.length === 0) reason = `no claim of type <${requirement.predicateType}> is present`;
  else if (!evidence.some((e) => e.outcome !== 'not-by-authority' && e.outcome !== 'signature-invalid'))
    reason = `no claim of this type is verified as by ${by}`;
  else if (evidence.some((e) => e.outcome === 'condition-false' || e.outcome === 'condition-error')) {
    const last = evidence.find((e) => e.outcome === 'condition-false' || e.outcome === 'condition-error')!;
    const saw = (last.seen ?? []).slice(0, 2).map((v) => `${v.expression} = ${v.value}`);
    reason = `${describeWhere(last)} by ${last.authority ?? '?'}: ${last.message}${saw.length > 0 ? `; it saw ${saw.join(', ')}` : ''}`;
  } else if (evidence.some((e) => e.outcome === 'other-model'))
    reason = 'the claims of this type by these authorities are about other files';
  else reason = `only ${distinct.count} of the ${requirement.count} distinct signers required attested`;
  const claims = [...distinct.counted].map(([authority, e]) => ({
    requirement: requirement.name,
    authority,
    signer: e.signer,
    file: e.entry.file,
    ...(e.entry.line !== undefined ? { line: e.entry.line } : {}),
    predicateType: e.entry.claim.statement.predicateType,
    predicate: e.entry.claim.statement.predicate,
  }));
  return { outcome: { kind: 'claim', name: requirement.name, required, satisfied, reason, evidence: shown(evidence) }, claims };
}

function ruleRef(rule: CompiledRule): MatchedRule {
  return { name: rule.name, index: rule.index, match: rule.matcher.description };
}

/** Evaluates a rule's requirements: the newest set of signed files that meets them all, else why the newest fails. */
async function decideRule(d: Decider, rule: CompiledRule, entries: Entry[]) {
  const signatures = entries
    .filter((e) => e.isSignature)
    .reverse()
    .slice(0, MAX_TRIED);
  const newestFirst = [...entries].reverse();
  const { by } = rule.signatures!;
  // Every OMS signature against every authority of the requirement.
  const candidates: Candidate[] = [];
  const rejected = new Map<Entry, Evidence>();
  for (const entry of signatures) {
    const failures: { authority: string; error: ModelSigningError }[] = [];
    for (const authority of by) {
      const check = await d.check(entry, authority);
      if (!check.ok) {
        failures.push({ authority, error: check.error });
        continue;
      }
      const key = filesKey(check.manifest!);
      let candidate = candidates.find((c) => c.key === key);
      if (!candidate) candidates.push((candidate = { manifest: check.manifest!, key, accepted: [] }));
      candidate.accepted.push({ entry, authority, signer: check.signer });
    }
    if (failures.length === by.length) rejected.set(entry, rejection(entry, failures));
  }
  let first: Awaited<ReturnType<typeof judge>> | undefined;
  async function judge(candidate: Candidate | undefined) {
    const signed = await signatureOutcome(d, rule, signatures, rejected, candidate, candidates);
    const claims = [];
    for (const requirement of rule.claims) claims.push(await claimOutcome(d, requirement, newestFirst, candidate));
    const requirements = [signed.outcome, ...claims.map((c) => c.outcome)];
    return { candidate, signed, claims, requirements, satisfied: requirements.every((r) => r.satisfied) };
  }
  for (const candidate of candidates) {
    const judged = await judge(candidate);
    if (judged.satisfied) return judged;
    first ??= judged;
  }
  return first ?? (await judge(undefined));
}

/**
 * Decides whether a policy accepts a model, and explains why: the rule that
 * matches how the model was addressed (the most specific; none or two
 * equally specific ones refuse), then its requirements over the signature
 * file's bundles and the extra claims: the OMS signatures of these exact
 * files by the required number of distinct authorities, and each required
 * claim verified, about these files, and meeting its condition.
 *
 * Never throws for a refusal: the decision says why. Any error while
 * deciding (a verifier that cannot be set up, a bug) is a refusal too;
 * only `ABORTED` and an invalid model identity (`INVALID_ARGUMENT`) are thrown.
 */
export async function explainPolicy(params: EvaluatePolicyParams): Promise<PolicyEvaluation> {
  const { policy } = params;
  const model = normalizeIdentity(params.model);
  const modelDescription = describeIdentity(model);
  const decision = (fields: Partial<PolicyDecision> & Pick<PolicyDecision, 'allowed' | 'reason'>): PolicyDecision => ({
    policy: policy.name,
    model,
    modelDescription,
    alsoMatched: [],
    requirements: [],
    warnings: [],
    ...fields,
  });
  const selection = policy.select(model);
  if (selection.kind === 'none') {
    return { decision: decision({ allowed: false, reason: `no rule matches ${modelDescription}, and what no rule allows is refused` }) };
  }
  if (selection.kind === 'ambiguous') {
    const names = selection.rules.map((r) => `'${r.name}' (${r.matcher.description})`);
    return {
      decision: decision({
        allowed: false,
        alsoMatched: [...selection.rules, ...selection.alsoMatched].map(ruleRef),
        reason: `rules ${list(names)} both match with the same specificity, so neither decides; make one more specific`,
      }),
    };
  }
  const { rule } = selection;
  const matched = { rule: ruleRef(rule), alsoMatched: selection.alsoMatched.map(ruleRef) };
  if (rule.deny !== undefined)
    return { decision: decision({ allowed: false, ...matched, reason: `rule '${rule.name}' denies it: ${rule.deny}` }) };

  const warnings: string[] = [];
  try {
    const d = new Decider(policy, model, params);
    throwIfAborted(d.signal);
    const entries = await readEntries(params, warnings);
    const judged = await decideRule(d, rule, entries);
    const failed = judged.requirements.find((r) => !r.satisfied);
    const newest = judged.signed.newest;
    const signature = judged.candidate
      ? {
          file: (newest ?? judged.candidate.accepted[0]).entry.file,
          ...((newest ?? judged.candidate.accepted[0]).entry.line !== undefined
            ? { line: (newest ?? judged.candidate.accepted[0]).entry.line }
            : {}),
          rootDigest: judged.candidate.manifest.rootDigest,
        }
      : undefined;
    const result = decision({
      allowed: failed === undefined,
      ...matched,
      reason: failed
        ? `rule '${rule.name}' requires ${failed.kind === 'signatures' ? failed.required : `claim '${failed.name}'`}: ${failed.reason}`
        : `rule '${rule.name}': every requirement is met`,
      ...(signature ? { signature } : {}),
      requirements: judged.requirements,
      warnings,
    });
    if (failed || !judged.candidate || !newest) return { decision: result };
    const lines = entries.filter((e) => e.file === newest.entry.file);
    const source: PolicyVerifiedSignature['source'] = {
      file: newest.entry.file,
      layout: newest.entry.line === undefined ? 'bundle' : 'claims',
      ...(newest.entry.line !== undefined ? { line: newest.entry.line, lines: lines.length } : {}),
      warnings: [],
    };
    return {
      decision: result,
      accepted: {
        manifest: judged.candidate.manifest,
        signer: newest.signer,
        bundle: newest.entry.claim.bundle,
        source,
        signers: judged.signed.signers,
        claims: judged.claims.flatMap((c) => c.claims),
        decision: result,
      },
    };
  } catch (err) {
    if (err instanceof ModelSigningError && err.code === 'ABORTED') throw err;
    // Never fail open: whatever went wrong, the model is refused, and the decision says why.
    const message = err instanceof Error ? err.message : String(err);
    return {
      decision: decision({ allowed: false, ...matched, warnings, reason: `rule '${rule.name}' could not be evaluated: ${message}` }),
    };
  }
}

/**
 * Accepts a model's signature under a policy: the OMS signature of the
 * files (verified manifest, signer, every counted signer) and the claims
 * that satisfied the rule, with the decision. This is what a loader calls in
 * place of `verifySignatureBytes` with one verifier; it reads no model file,
 * so the caller must then check the files against `manifest`.
 *
 * @throws {PolicyDeniedError} `POLICY_DENIED` with the decision: which rule, which requirement, why.
 * @throws {ModelSigningError} `ABORTED`; `INVALID_ARGUMENT` for a model identity that is not one.
 */
export async function evaluatePolicy(params: EvaluatePolicyParams): Promise<PolicyVerifiedSignature> {
  const { decision, accepted } = await explainPolicy(params);
  if (!decision.allowed || !accepted) throw new PolicyDeniedError(decision);
  return accepted;
}
