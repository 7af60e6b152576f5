/**
 * A CycloneDX 1.6 model card holding one accuracy metric, as an evaluator
 * attests it (`attest … --model-card`): CycloneDX writes metric values as text.
 */
export function accuracyCard(accuracy, name = 'tiny') {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: {
      component: {
        type: 'machine-learning-model',
        name,
        modelCard: { quantitativeAnalysis: { performanceMetrics: [{ type: 'accuracy', value: String(accuracy) }] } },
      },
    },
  };
}

/** The CEL condition over such a card: an accuracy of at least `threshold`. */
export function accuracyAtLeast(threshold) {
  return `predicate.metadata.component.modelCard.quantitativeAnalysis.performanceMetrics.exists(m, m.type == "accuracy" && double(m.value) >= ${threshold})`;
}
