// Runtime-neutral (no `node:*`). A policy document made ready to decide:
// every authority a verifier, every match compiled, every condition compiled
// and metered, every name checked. All problems are collected, not only the
// first, so `policy check` can list them.
import { ModelSigningError } from '../errors.js';
import { createAuthority, type Authority, type AuthorityVerifiers, type ReadPolicyFile } from './authorities.js';
import { DEFAULT_CEL_COST_LIMIT, compileCondition, type CompiledCondition } from './cel.js';
import {
  parsePolicy,
  pointerSegment,
  type ParsePolicyOptions,
  type ParsedPolicy,
  type PolicyDocument,
  type RuleDocument,
} from './document.js';
import { PolicyInvalidError, type PolicyProblem } from './errors.js';
import { normalizeIdentity, type ModelIdentity } from './identity.js';
import { ConditionSyntaxError } from './re2.js';
import { MatchError, compareSpecificity, compileMatch, type RuleMatcher } from './rule-match.js';

/** The most units all conditions of one decision may spend together. */
export const DEFAULT_TOTAL_CEL_COST_LIMIT = 10 * DEFAULT_CEL_COST_LIMIT;

/** A claim requirement, compiled. */
export interface CompiledClaimRequirement {
  name: string;
  predicateType: string;
  by: readonly string[];
  count: number;
  condition?: CompiledCondition;
}

/** A rule, compiled. */
export interface CompiledRule {
  name: string;
  index: number;
  matcher: RuleMatcher;
  /** A deny rule's reason. */
  deny?: string;
  signatures?: { by: readonly string[]; count: number };
  claims: CompiledClaimRequirement[];
}

/** Which rule decides for a model. */
export type RuleSelection =
  | { kind: 'none' }
  | { kind: 'rule'; rule: CompiledRule; alsoMatched: CompiledRule[] }
  | { kind: 'ambiguous'; rules: CompiledRule[]; alsoMatched: CompiledRule[] };

/** Options of {@link compilePolicy}. */
export interface CompilePolicyOptions extends ParsePolicyOptions {
  /** The runtime's verifiers, which the authorities become. */
  verifiers: AuthorityVerifiers;
  /** Reads a file the policy names (`{ file: … }`). Without it such a reference is a problem. */
  readFile?: ReadPolicyFile;
  /** Units one condition may spend. Default 1,000,000. */
  costLimit?: number;
  /** Units all conditions of one decision may spend. Default 10,000,000. */
  totalCostLimit?: number;
}

/**
 * A trust policy ready to decide: authorities made into verifiers, matches
 * and conditions compiled (`loadPolicy`, `createPolicy`). Immutable; one
 * policy serves every load of an application: give it as a loader's
 * `policy` option.
 */
export class Policy {
  /** @internal Use {@link compilePolicy} (or `createPolicy`, `loadPolicy`). */
  constructor(
    /** The policy's name in messages (its file). */
    readonly name: string,
    /** @internal */
    readonly document: PolicyDocument,
    /** @internal */
    readonly authorities: ReadonlyMap<string, Authority>,
    /** @internal */
    readonly rules: readonly CompiledRule[],
    /** @internal */
    readonly costLimit: number,
    /** @internal */
    readonly totalCostLimit: number,
  ) {}

  /**
   * The rule that decides for `identity` (normalised first): the most
   * specific of those that match. Two equally specific rules that both match
   * are ambiguous: the policy refuses rather than pick one by its order.
   *
   * @internal
   */
  select(identity: ModelIdentity): RuleSelection {
    const model = normalizeIdentity(identity);
    const matching = this.rules.filter((r) => r.matcher.matches(model));
    if (matching.length === 0) return { kind: 'none' };
    const sorted = [...matching].sort((a, b) => compareSpecificity(a.matcher.specificity, b.matcher.specificity) || a.index - b.index);
    const top = sorted.filter((r) => compareSpecificity(r.matcher.specificity, sorted[0].matcher.specificity) === 0);
    const rest = sorted.slice(top.length);
    return top.length === 1 ? { kind: 'rule', rule: top[0], alsoMatched: rest } : { kind: 'ambiguous', rules: top, alsoMatched: rest };
  }
}

const path = (...segments: (string | number)[]): string => segments.map((s) => `/${pointerSegment(s)}`).join('');

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Collects the problems of one rule into `problems`, and returns it compiled if it has none. */
function compileRule(
  rule: RuleDocument,
  index: number,
  authorities: ReadonlySet<string>,
  problems: PolicyProblem[],
): CompiledRule | undefined {
  const before = problems.length;
  const at = (...segments: (string | number)[]) => path('rules', index, ...segments);
  const problem = (where: string, message: string) => problems.push({ path: where, message });
  let matcher: RuleMatcher | undefined;
  try {
    matcher = compileMatch(rule.match);
  } catch (err) {
    if (!(err instanceof MatchError)) throw err;
    problem(at('match', err.field), err.message);
  }
  const checkNames = (names: readonly string[], ...where: (string | number)[]) =>
    names.forEach((name, i) => {
      if (!authorities.has(name))
        problem(at(...where, i), `unknown authority '${name}' (the policy defines ${[...authorities].join(', ')})`);
    });
  const checkCount = (count: number | undefined, names: readonly string[], ...where: (string | number)[]) => {
    if (count !== undefined && count > names.length) {
      problem(
        at(...where),
        `requires ${count} distinct signers but names only ${names.length} authorit${names.length === 1 ? 'y' : 'ies'}`,
      );
    }
  };
  const signatures = rule.require?.signatures;
  if (signatures) {
    checkNames(signatures.by, 'require', 'signatures', 'by');
    checkCount(signatures.count, signatures.by, 'require', 'signatures', 'count');
  }
  const claims: CompiledClaimRequirement[] = [];
  (rule.require?.claims ?? []).forEach((claim, j) => {
    checkNames(claim.by, 'require', 'claims', j, 'by');
    checkCount(claim.count, claim.by, 'require', 'claims', j, 'count');
    let condition: CompiledCondition | undefined;
    if (claim.condition !== undefined) {
      try {
        condition = compileCondition(claim.condition);
      } catch (err) {
        if (!(err instanceof ConditionSyntaxError)) throw err;
        problem(at('require', 'claims', j, 'condition'), err.message);
      }
    }
    claims.push({
      name: claim.name ?? claim.predicateType,
      predicateType: claim.predicateType,
      by: claim.by,
      count: claim.count ?? 1,
      ...(condition ? { condition } : {}),
    });
  });
  if (problems.length > before || !matcher) return undefined;
  return {
    name: rule.name,
    index,
    matcher,
    ...(rule.deny !== undefined ? { deny: rule.deny } : {}),
    ...(signatures ? { signatures: { by: signatures.by, count: signatures.count ?? 1 } } : {}),
    claims,
  };
}

/**
 * Compiles a policy (its text, or one {@link parsePolicy} already read):
 * each authority becomes a verifier of the runtime's (`verifiers`), each
 * rule's match and conditions are compiled, and names are checked: unique
 * rule names, known authorities, thresholds no larger than their lists,
 * no two rules matching exactly the same models, regular expressions RE2
 * accepts, conditions that compile.
 *
 * @throws {PolicyInvalidError} `POLICY_INVALID` listing every problem with its JSON path (and line).
 */
export async function compilePolicy(source: string | Uint8Array | ParsedPolicy, options: CompilePolicyOptions): Promise<Policy> {
  const parsed = typeof source === 'string' || source instanceof Uint8Array ? await parsePolicy(source, options) : source;
  const { document, name } = parsed;
  const problems: PolicyProblem[] = [];
  const readFile: ReadPolicyFile =
    options.readFile ??
    ((file) => {
      throw new ModelSigningError({
        code: 'INVALID_ARGUMENT',
        message: `the policy refers to the file '${file}', but no file reader was given (give the PEM inline, or a readFile option)`,
      });
    });

  const authorities = new Map<string, Authority>();
  for (const [authorityName, spec] of Object.entries(document.authorities)) {
    const where = path('authorities', authorityName, spec.key ? 'key' : spec.certificate ? 'certificate' : 'sigstore');
    if (spec.certificate?.useSystemRoots && !spec.certificate.subject && !spec.certificate.san && !spec.certificate.fingerprint) {
      problems.push({ path: where, message: 'useSystemRoots trusts every public CA: pin the signer with subject, san or fingerprint' });
      continue;
    }
    try {
      authorities.set(authorityName, await createAuthority(authorityName, spec, options.verifiers, readFile));
    } catch (err) {
      if (!(err instanceof ModelSigningError) && !(err instanceof ConditionSyntaxError)) throw err;
      problems.push({ path: where, message: messageOf(err) });
    }
  }

  const names = new Set(Object.keys(document.authorities));
  const rules: CompiledRule[] = [];
  const ruleNames = new Map<string, number>();
  const matchKeys = new Map<string, number>();
  document.rules.forEach((rule, index) => {
    const earlier = ruleNames.get(rule.name);
    if (earlier !== undefined)
      problems.push({ path: path('rules', index, 'name'), message: `rule name '${rule.name}' is also rules[${earlier}]'s` });
    ruleNames.set(rule.name, index);
    const compiled = compileRule(rule, index, names, problems);
    if (!compiled) return;
    const twin = matchKeys.get(compiled.matcher.key);
    if (twin !== undefined) {
      problems.push({
        path: path('rules', index, 'match'),
        message: `matches exactly the models rule '${document.rules[twin].name}' (rules[${twin}]) matches; a model would match both equally and be refused`,
      });
    }
    matchKeys.set(compiled.matcher.key, index);
    rules.push(compiled);
  });

  if (problems.length > 0)
    throw new PolicyInvalidError(
      name,
      problems.map((p) => parsed.locate(p.path, p.message)),
    );
  return new Policy(
    name,
    document,
    authorities,
    rules,
    options.costLimit ?? DEFAULT_CEL_COST_LIMIT,
    options.totalCostLimit ?? DEFAULT_TOTAL_CEL_COST_LIMIT,
  );
}
