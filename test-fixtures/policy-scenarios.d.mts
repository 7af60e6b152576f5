/** A key pair as PEM. */
interface KeyPair {
  publicKey: string;
  privateKey: string;
}
/** The parties of the scenarios. */
export interface PolicyParties {
  publisher: KeyPair;
  releaser: KeyPair;
  evaluator: KeyPair;
  other: KeyPair;
}
/** The parties: the publisher, a second release signer, the evaluator, and a key nobody trusts. */
export function policyParties(): PolicyParties;
/** The signature files of one scenario, as bytes: `model.sig`, and `claims.jsonl` when there is a claim. */
export type ScenarioFiles = Record<string, Buffer>;
/** The core functions the scenarios sign with. */
export interface ScenarioCore {
  signModel(options: { modelPath: string; signaturePath: string; signer: unknown; cacheDir?: string }): Promise<unknown>;
  attest(params: { modelPath: string; claimsPath: string; signer: unknown; predicateType: string; predicate: unknown }): Promise<unknown>;
  KeySigner: { create(options: { privateKey: string }): Promise<unknown> };
}
/** The signature files of each scenario for the model at `modelDir`. */
export function scenarioSignatures(options: {
  core: ScenarioCore;
  parties: PolicyParties;
  modelDir: string;
  work: string;
}): Promise<Record<'accepted' | 'noClaim' | 'belowThreshold' | 'otherKey', ScenarioFiles>>;
/** The gate and 2-of-2 policies (JSON text) for models `match` selects. */
export function scenarioPolicies(parties: PolicyParties, match: Record<string, string>): { gate: string; twoOfTwo: string };
/** What each refusal must name: the rule and the requirement. */
export const REFUSALS: Record<'noClaim' | 'belowThreshold' | 'otherKey' | 'oneOfTwo' | 'unmatched', RegExp>;
/** Every scenario as a model folder on disk, and the two policies for them, loaded. */
export function scenarioFolders<P>(options: {
  core: ScenarioCore & { loadPolicy(path: string): Promise<P> };
  parties: PolicyParties;
  /** A real path: the folders are made under it. */
  work: string;
  /** Writes the model into the folder given. */
  writeModel(dir: string): Promise<void>;
}): Promise<{ folders: Record<'accepted' | 'noClaim' | 'belowThreshold' | 'otherKey', string>; gate: P; twoOfTwo: P }>;
/** The refusals every loader checks: what changed, the scenario, the policy that refuses it, what the refusal must name. */
export const REFUSAL_CASES: readonly (readonly [
  string,
  'noClaim' | 'belowThreshold' | 'otherKey' | 'accepted',
  'gate' | 'twoOfTwo',
  RegExp,
])[];
