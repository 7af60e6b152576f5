/** A CycloneDX 1.6 model card holding one accuracy metric (its value as text). */
export function accuracyCard(accuracy: number | string, name?: string): Record<string, unknown>;
/** The CEL condition over such a card: an accuracy of at least `threshold`. */
export function accuracyAtLeast(threshold: number): string;
/**
 * The evaluation gate of docs/policy.md as a policy document (JSON text):
 * for models `match` selects, `count` of the `signers` (default all) sign,
 * and the evaluator attests an accuracy of at least `threshold` (default 0.9).
 */
export function evaluationGatePolicy(options: {
  keys: Record<string, string>;
  match: Record<string, string>;
  threshold?: number;
  signers?: string[];
  count?: number;
}): string;
