/** A CycloneDX 1.6 model card holding one accuracy metric (its value as text). */
export function accuracyCard(accuracy: number | string, name?: string): Record<string, unknown>;
/** The CEL condition over such a card: an accuracy of at least `threshold`. */
export function accuracyAtLeast(threshold: number): string;
