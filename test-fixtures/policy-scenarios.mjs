// The scenarios of issue 24's "done when", shared by every loader's policy
// test: a model signed by the publisher with the evaluator's model card
// claim (accuracy 0.93) beside it, accepted under the evaluation gate; and
// each way it must be refused, with the rule and the requirement the
// refusal names. Core's functions are passed in, so each package signs with
// the core it tests against.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ecKeyPair } from './fixtures.mjs';
import { accuracyCard, evaluationGatePolicy } from './model-card.mjs';

/** The parties: the publisher, a second release signer, the evaluator, and a key nobody trusts. */
export function policyParties() {
  return { publisher: ecKeyPair(), releaser: ecKeyPair(), evaluator: ecKeyPair(), other: ecKeyPair() };
}

/**
 * The signature files of each scenario for the model at `modelDir`, made in
 * `work`: `{ 'model.sig', 'claims.jsonl'? }` as bytes, to lay beside the
 * model (or push to a hub repo).
 *
 * - `accepted`: the publisher signs, the evaluator attests 0.93;
 * - `noClaim`: the publisher signs, no claim;
 * - `belowThreshold`: the evaluator attests 0.85;
 * - `otherKey`: another key signs, the evaluator attests 0.93.
 */
export async function scenarioSignatures({ core, parties, modelDir, work }) {
  const out = {};
  const make = async (name, signer, accuracy) => {
    const dir = path.join(work, `signatures-${name}`);
    await fs.mkdir(dir, { recursive: true });
    const signaturePath = path.join(dir, 'model.sig');
    await core.signModel({
      modelPath: modelDir,
      signaturePath,
      signer: await core.KeySigner.create({ privateKey: parties[signer].privateKey }),
      cacheDir: path.join(work, 'hash-cache'),
    });
    const files = { 'model.sig': await fs.readFile(signaturePath) };
    if (accuracy !== undefined) {
      const claimsPath = path.join(dir, 'claims.jsonl');
      await core.attest({
        modelPath: modelDir,
        claimsPath,
        signer: await core.KeySigner.create({ privateKey: parties.evaluator.privateKey }),
        predicateType: 'https://cyclonedx.org/bom',
        predicate: accuracyCard(accuracy),
      });
      files['claims.jsonl'] = await fs.readFile(claimsPath);
    }
    out[name] = files;
  };
  await make('accepted', 'publisher', 0.93);
  await make('noClaim', 'publisher', undefined);
  await make('belowThreshold', 'publisher', 0.85);
  await make('otherKey', 'other', 0.93);
  return out;
}

/**
 * The policies (JSON text) for models `match` selects: `gate` requires the
 * publisher and the evaluator's accuracy ≥ 0.9; `twoOfTwo` requires the
 * publisher and the releaser both.
 */
export function scenarioPolicies(parties, match) {
  const keys = Object.fromEntries(['publisher', 'releaser', 'evaluator'].map((k) => [k, parties[k].publicKey]));
  return {
    gate: evaluationGatePolicy({ keys, match }),
    twoOfTwo: evaluationGatePolicy({ keys, match, signers: ['publisher', 'releaser'] }),
  };
}

/**
 * Every scenario as a model folder on disk, for a loader that reads a
 * directory: `writeModel(dir)` writes the model into `<work>/source`, which is
 * signed as `scenarioSignatures` does and copied to `<work>/models/<scenario>`
 * with its signature files; the gate and 2-of-2 policies, for the folders
 * under `<work>/models`, are written beside them and loaded with
 * `core.loadPolicy`. `work` must be a real path (the rules match real paths).
 */
export async function scenarioFolders({ core, parties, work, writeModel }) {
  const modelDir = path.join(work, 'source');
  await fs.mkdir(modelDir);
  await writeModel(modelDir);
  const signatures = await scenarioSignatures({ core, parties, modelDir, work });
  const folders = {};
  for (const [name, files] of Object.entries(signatures)) {
    const dir = path.join(work, 'models', name);
    await fs.cp(modelDir, dir, { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await fs.writeFile(path.join(dir, file), bytes);
    folders[name] = dir;
  }
  const policies = scenarioPolicies(parties, { path: `${work}/models/**` });
  await fs.writeFile(path.join(work, 'gate.json'), policies.gate);
  await fs.writeFile(path.join(work, 'two-of-two.json'), policies.twoOfTwo);
  return {
    folders,
    gate: await core.loadPolicy(path.join(work, 'gate.json')),
    twoOfTwo: await core.loadPolicy(path.join(work, 'two-of-two.json')),
  };
}

/** What each refusal must name: the rule and the requirement, as the engine words them. */
export const REFUSALS = {
  noClaim: /rule 'evaluated models' requires claim 'evaluation': no claim of type <https:\/\/cyclonedx\.org\/bom> is present/,
  belowThreshold: /rule 'evaluated models' requires claim 'evaluation': .*the condition is false/,
  otherKey: /rule 'evaluated models' requires signed by publisher: no OMS signature is by publisher/,
  oneOfTwo: /rule 'evaluated models' requires 2 distinct signers among publisher and releaser: only 1 of the 2 distinct signers required/,
  unmatched: /no rule matches .*, and what no rule allows is refused/,
};

/**
 * The refusals every loader checks, as `[what, scenario, policy, refusal]`:
 * what changed, the scenario whose signatures show it, the policy that
 * refuses it (`gate` or `twoOfTwo`), and what the refusal must name.
 */
export const REFUSAL_CASES = [
  ['the claim is removed', 'noClaim', 'gate', REFUSALS.noClaim],
  ['the score is below the threshold', 'belowThreshold', 'gate', REFUSALS.belowThreshold],
  ['another key signed', 'otherKey', 'gate', REFUSALS.otherKey],
  ['1 of 2 signed where 2 of 2 are required', 'accepted', 'twoOfTwo', REFUSALS.oneOfTwo],
];
