// The trust policy's public API, shared by both entries (the Node entry adds
// loadPolicy, the browser entry createPolicy). See docs/policy.md.
export { Policy, compilePolicy, type CompilePolicyOptions } from './compile.js';
export { DEFAULT_MAX_POLICY_BYTES, parsePolicy, type ParsePolicyOptions, type ParsedPolicy, type PolicyDocument } from './document.js';
export {
  evaluatePolicy,
  explainPolicy,
  type EvaluatePolicyParams,
  type PolicyClaim,
  type PolicyEvaluation,
  type PolicySigner,
  type PolicyVerifiedSignature,
} from './evaluate.js';
export {
  formatDecision,
  type Evidence,
  type EvidenceOutcome,
  type MatchedRule,
  type PolicyDecision,
  type RequirementOutcome,
} from './decision.js';
export { PolicyDeniedError, PolicyInvalidError, describeProblem, type PolicyProblem } from './errors.js';
export { describeIdentity, normalizeIdentity, type ModelIdentity } from './identity.js';
export { DEFAULT_CEL_COST_LIMIT, type SeenValue } from './cel.js';
export type { AuthorityVerifiers, PolicyFile, SigstoreVerifierParams } from './authorities.js';
