// Runtime-neutral. The two ways a policy says no: it cannot be used
// (POLICY_INVALID), or it refuses the model (POLICY_DENIED).
import { ModelSigningError } from '../errors.js';
import type { PolicyDecision } from './decision.js';

/** One thing wrong with a policy document. */
export interface PolicyProblem {
  /** JSON pointer to the part that is wrong (`/rules/0/require/claims/1/condition`); empty for the whole document. */
  path: string;
  message: string;
  /** 1-based line and column in the policy text, when known. */
  line?: number;
  column?: number;
}

/** How many problems the error message lists (`problems` has them all). */
const PROBLEMS_IN_MESSAGE = 5;

/** A problem as one line: `policy.yaml:12:7 /rules/0/match: needs exactly one of …`. */
export function describeProblem(name: string, problem: PolicyProblem): string {
  const at = problem.line !== undefined ? `${name}:${problem.line}:${problem.column ?? 1}` : name;
  return `${at} ${problem.path === '' ? '(the document)' : problem.path}: ${problem.message}`;
}

/**
 * A policy that cannot be used: `problems` lists every problem found, each
 * with its JSON path and line. Code `POLICY_INVALID`.
 */
export class PolicyInvalidError extends ModelSigningError {
  declare readonly code: 'POLICY_INVALID';
  readonly problems: PolicyProblem[];

  constructor(name: string, problems: PolicyProblem[], cause?: unknown) {
    const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).map((p) => describeProblem(name, p));
    if (problems.length > PROBLEMS_IN_MESSAGE) shown.push(`and ${problems.length - PROBLEMS_IN_MESSAGE} more`);
    super({ code: 'POLICY_INVALID', message: `The policy ${name} is invalid: ${shown.join('; ')}`, cause, path: name });
    this.name = 'PolicyInvalidError';
    this.problems = problems;
  }
}

/**
 * The policy refused the model; `decision` says which rule decided, which
 * requirement failed and why, with what each signature and claim showed.
 * Code `POLICY_DENIED`.
 */
export class PolicyDeniedError extends ModelSigningError {
  declare readonly code: 'POLICY_DENIED';
  readonly decision: PolicyDecision;

  constructor(decision: PolicyDecision, cause?: unknown) {
    super({
      code: 'POLICY_DENIED',
      message: `The policy ${decision.policy} refused ${decision.modelDescription}: ${decision.reason}`,
      cause,
    });
    this.name = 'PolicyDeniedError';
    this.decision = decision;
  }
}
