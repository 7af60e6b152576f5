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

/**
 * The evaluation gate of docs/policy.md as a policy document (JSON text):
 * for models `match` selects, `count` of the `signers` authorities (default
 * all of them) sign, and the evaluator attests a model card with an accuracy
 * of at least `threshold`. `keys` maps each authority's name to its public
 * key (PEM); it must hold `evaluator` and every signer.
 */
export function evaluationGatePolicy({ keys, match, threshold = 0.9, signers = ['publisher'], count }) {
  return JSON.stringify({
    version: 1,
    authorities: Object.fromEntries(Object.entries(keys).map(([name, pem]) => [name, { key: { pem } }])),
    rules: [
      {
        name: 'evaluated models',
        match,
        require: {
          signatures: { by: signers, ...(count !== undefined ? { count } : signers.length > 1 ? { count: signers.length } : {}) },
          claims: [
            {
              name: 'evaluation',
              predicateType: 'https://cyclonedx.org/bom',
              by: ['evaluator'],
              condition: accuracyAtLeast(threshold),
            },
          ],
        },
      },
    ],
  });
}
