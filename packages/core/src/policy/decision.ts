// Runtime-neutral. What a policy decided and why, as data (`--json`) and as
// lines a person can act on.
import type { SignerInfo } from '../format/verifier.js';
import type { SeenValue } from './cel.js';
import type { ModelIdentity } from './identity.js';

/** A rule, as a decision names it. */
export interface MatchedRule {
  name: string;
  /** Its place in the policy's `rules` (0-based). */
  index: number;
  /** What it matches, as written: `huggingface my-org/*`. */
  match: string;
}

/** What became of one signature or claim line for one requirement. */
export type EvidenceOutcome =
  /** Counted toward the requirement. */
  | 'counted'
  /** Accepted, but by a signer already counted (a threshold counts distinct signers). */
  | 'same-signer'
  /** Accepted, but its only authority already counts for another signer. */
  | 'not-counted'
  /** No authority of the requirement accepted its signature (another signer, another method). */
  | 'not-by-authority'
  /** Its signature does not verify (tampered, broken). */
  | 'signature-invalid'
  /** It is about other files than the signature being judged. */
  | 'other-model'
  /** The condition was false for it. */
  | 'condition-false'
  /** The condition failed: an error, or its cost limit. */
  | 'condition-error';

/** One line looked at for a requirement. */
export interface Evidence {
  /** The file it came from, as the caller named it. */
  file: string;
  /** Its line in a claims file; absent for a single-bundle signature file. */
  line?: number;
  outcome: EvidenceOutcome;
  /** The authority that accepted it, when one did. */
  authority?: string;
  /** Who signed it: verified when an authority accepted it, else what the bundle says of itself. */
  signer?: string;
  /** Why, in words. */
  message: string;
  /** For conditions: the values the condition read. */
  seen?: SeenValue[];
}

/** One requirement of the deciding rule, checked. */
export interface RequirementOutcome {
  kind: 'signatures' | 'claim';
  /** `signatures`, or the claim requirement's name (its predicate type when it has none). */
  name: string;
  /** What it requires, in words: `2 distinct signers among alice, bob, carol`. */
  required: string;
  satisfied: boolean;
  /** Why it is or is not satisfied, in one sentence. */
  reason: string;
  evidence: Evidence[];
}

/** What a policy decided about a model, and why. */
export interface PolicyDecision {
  allowed: boolean;
  /** The policy's name (its file). */
  policy: string;
  /** The model as the rules saw it (normalised). */
  model: ModelIdentity;
  modelDescription: string;
  /** The rule that decided, when one matched. */
  rule?: MatchedRule;
  /** Other rules that matched, less specific, in order of specificity. */
  alsoMatched: MatchedRule[];
  /** The decision in one sentence: which rule, which requirement, why. */
  reason: string;
  /** The signed files judged: the accepted OMS signature's, or the newest one considered. */
  signature?: { file: string; line?: number; rootDigest: string };
  /** Each requirement of the deciding rule (none for a deny rule or when no rule decided). */
  requirements: RequirementOutcome[];
  /** Lines skipped because they are not claims (not JSON, not a bundle, cut short). */
  warnings: string[];
}

/** Who signed, for people. */
export function describeSigner(signer: SignerInfo): string {
  if (signer.identity !== undefined) return `${signer.identity} (issuer ${signer.issuer ?? '?'})`;
  if (signer.certificateSubject !== undefined) return `certificate '${signer.certificateSubject}'`;
  if (signer.publicKeyHint !== undefined) return `key ${signer.publicKeyHint.slice(0, 16)}…`;
  return `a ${signer.method} signature`;
}

/** Where a line is, for people: `claims.jsonl line 3`, or the file for a single bundle. */
export function describeWhere(evidence: Pick<Evidence, 'file' | 'line'>): string {
  return evidence.line === undefined ? evidence.file : `${evidence.file} line ${evidence.line}`;
}

/**
 * The decision as lines for a terminal: the model, the rule, each
 * requirement with what each line showed, then the verdict. The text is
 * untrusted in parts (names from bundles, predicate values): escape it for
 * the terminal.
 */
export function formatDecision(decision: PolicyDecision): string[] {
  const lines = [`Policy ${decision.policy}: ${decision.modelDescription}`];
  if (decision.rule) {
    const also = decision.alsoMatched.map((r) => `'${r.name}' (${r.match})`).join(', ');
    lines.push(`  rule '${decision.rule.name}' (${decision.rule.match}) decides${also ? `; also matching, less specific: ${also}` : ''}`);
  }
  if (decision.signature) {
    const { file, line, rootDigest } = decision.signature;
    lines.push(`  signed files: sha256:${rootDigest} (${describeWhere({ file, ...(line !== undefined ? { line } : {}) })})`);
  }
  for (const r of decision.requirements) {
    lines.push(`  ${r.satisfied ? 'ok' : 'FAILED'}  ${r.kind === 'signatures' ? 'signatures' : `claim '${r.name}'`}: ${r.required}`);
    lines.push(`        ${r.reason}`);
    for (const e of r.evidence) {
      const by = e.authority !== undefined ? ` by ${e.authority}` : '';
      lines.push(`        - ${describeWhere(e)}${by}: ${e.message}`);
      for (const s of e.seen ?? []) lines.push(`            ${s.expression} = ${s.value}`);
    }
  }
  for (const w of decision.warnings) lines.push(`  skipped: ${w}`);
  lines.push(`${decision.allowed ? 'ALLOWED' : 'DENIED'}: ${decision.reason}`);
  return lines;
}
