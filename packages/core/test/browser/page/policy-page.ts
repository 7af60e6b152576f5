/** Browser side of policy-in-browser.test.ts: a trust policy made and evaluated through `@model-signing/core/browser`. */
import { ModelSigningError, createPolicy, formatDecision, type ModelIdentity } from '../../../src/browser.js';
import { explainPolicy } from '../../../src/internal.js';

/** The decision on the signature file at `signatureUrl` for `identity`; the policy's files are fetched beside it. */
export async function decide(policyUrl: string, signatureUrl: string, identity: ModelIdentity) {
  try {
    const policy = await createPolicy(await (await fetch(policyUrl)).text(), {
      name: 'policy.yaml',
      readFile: async (name) => {
        const response = await fetch(new URL(name, policyUrl));
        if (!response.ok) throw new ModelSigningError({ code: 'NOT_FOUND', message: `${name}: HTTP ${response.status}` });
        return new Uint8Array(await response.arrayBuffer());
      },
    });
    const bytes = new Uint8Array(await (await fetch(signatureUrl)).arrayBuffer());
    const { decision, accepted } = await explainPolicy({ policy, model: identity, bytes, name: new URL(signatureUrl).pathname.slice(1) });
    return {
      allowed: decision.allowed,
      reason: decision.reason,
      outcomes: decision.requirements.map((r) => [r.name, r.satisfied, r.evidence.map((e) => e.outcome)]),
      lines: formatDecision(decision),
      rootDigest: accepted?.manifest.rootDigest,
      claims: accepted?.claims.map((c) => c.requirement),
    };
  } catch (err) {
    return err instanceof ModelSigningError ? { code: err.code, message: err.message } : { crash: String(err) };
  }
}
