// Runtime-neutral (no `node:*`). Model cards as CycloneDX 1.6 BOMs: the
// in-toto CycloneDX predicate with a `machine-learning-model` component that
// carries a `modelCard`.
import { ModelSigningError } from '../../errors.js';
import { arrayField, isRecord, schemaValidator, stringField, type PredicateType } from './predicate-type.js';

/** The in-toto predicate type of CycloneDX BOMs (in-toto/attestation `spec/predicates/cyclonedx.md`). */
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';

/** The CycloneDX version validated (its schema ships with this package). */
export const CYCLONEDX_SPEC_VERSION = '1.6';

/** A CycloneDX BOM, as JSON; see the CycloneDX 1.6 specification for its fields. */
export type CycloneDxBom = Record<string, unknown>;

const validateSchema = schemaValidator('CycloneDX BOM', async () => {
  const [{ default: schema }, { default: spdx }, { default: jsf }] = await Promise.all([
    import('./schemas/bom-1.6.schema.json', { with: { type: 'json' } }),
    import('./schemas/spdx.schema.json', { with: { type: 'json' } }),
    import('./schemas/jsf-0.82.schema.json', { with: { type: 'json' } }),
  ]);
  return { schema, references: [spdx, jsf] };
});

/** The `machine-learning-model` components of a BOM: the one it describes (`metadata.component`) first. */
export function modelComponents(bom: unknown): Record<string, unknown>[] {
  const metadata = isRecord(bom) ? bom['metadata'] : undefined;
  const described = isRecord(metadata) ? metadata['component'] : undefined;
  return [described, ...arrayField(bom, 'components')].filter(
    (c): c is Record<string, unknown> => isRecord(c) && c['type'] === 'machine-learning-model',
  );
}

/** The CycloneDX BOM predicate (SBOMs and model cards alike): version 1.6, checked against the CycloneDX 1.6 JSON Schema. */
export const cycloneDx: PredicateType = {
  uri: CYCLONEDX_PREDICATE_TYPE,
  title: 'CycloneDX BOM',
  async validate(predicate) {
    const version = stringField(predicate, 'specVersion');
    if (version !== CYCLONEDX_SPEC_VERSION) {
      throw new ModelSigningError({
        code: 'PREDICATE_INVALID',
        message: `The CycloneDX BOM has specVersion ${version === undefined ? '(none)' : `'${version}'`}; only CycloneDX ${CYCLONEDX_SPEC_VERSION} is validated (its schema ships with model-signing)`,
      });
    }
    await validateSchema(predicate);
  },
  describe: describeBom,
};

/**
 * Checks a model card before it is signed: a valid CycloneDX 1.6 BOM with a
 * `machine-learning-model` component that has a `modelCard`.
 *
 * @throws {ModelSigningError} `PREDICATE_INVALID`.
 */
export async function validateModelCard(bom: unknown): Promise<void> {
  await cycloneDx.validate(bom);
  if (!modelComponents(bom).some((c) => isRecord(c['modelCard']))) {
    throw new ModelSigningError({
      code: 'PREDICATE_INVALID',
      message: "The model card has no 'machine-learning-model' component with a modelCard (put it in metadata.component)",
    });
  }
}

function licenseNames(component: Record<string, unknown>): string[] {
  return arrayField(component, 'licenses').flatMap((choice) => {
    const license = isRecord(choice) ? choice['license'] : undefined;
    const name = stringField(license, 'id') ?? stringField(license, 'name') ?? stringField(choice, 'expression');
    return name === undefined ? [] : [name];
  });
}

function listed(label: string, values: readonly string[]): string[] {
  return values.length === 0 ? [] : [`${label}: ${values.join(', ')}`];
}

/** A model card for people: name, license, task, lineage, data, and each metric on its own line. */
function describeBom(bom: unknown): string[] {
  const [component] = modelComponents(bom);
  if (!component) {
    const count = arrayField(bom, 'components').length;
    return [`CycloneDX ${stringField(bom, 'specVersion') ?? '?'} BOM with ${count} component${count === 1 ? '' : 's'}`];
  }
  const card = isRecord(component['modelCard']) ? component['modelCard'] : {};
  const parameters = isRecord(card['modelParameters']) ? card['modelParameters'] : {};
  const analysis = isRecord(card['quantitativeAnalysis']) ? card['quantitativeAnalysis'] : {};
  const pedigree = isRecord(component['pedigree']) ? component['pedigree'] : {};
  const version = stringField(component, 'version');
  const names = (items: unknown[]) => items.flatMap((i) => stringField(i, 'name') ?? []);
  const what = isRecord(component['modelCard']) ? 'model card of' : 'model';
  const lines = [`${what}: ${stringField(component, 'name') ?? '(unnamed)'}${version === undefined ? '' : ` ${version}`}`];
  lines.push(...listed('license', licenseNames(component)));
  const task = stringField(parameters, 'task');
  if (task !== undefined) lines.push(`task: ${task}`);
  lines.push(...listed('base model', names(arrayField(pedigree, 'ancestors'))));
  lines.push(...listed('datasets', names(arrayField(parameters, 'datasets'))));
  const properties = arrayField(component, 'properties');
  const property = (name: string) =>
    properties.filter((p) => stringField(p, 'name') === name).flatMap((p) => stringField(p, 'value') ?? []);
  lines.push(...listed('languages', property('huggingface:language')));
  lines.push(
    ...listed(
      'tags',
      arrayField(component, 'tags').filter((t): t is string => typeof t === 'string'),
    ),
  );
  const metrics = arrayField(analysis, 'performanceMetrics');
  if (metrics.length > 0) lines.push('metrics:');
  for (const metric of metrics) {
    const slice = stringField(metric, 'slice');
    lines.push(
      `  ${stringField(metric, 'type') ?? '?'} = ${stringField(metric, 'value') ?? '?'}${slice === undefined ? '' : ` on ${slice}`}`,
    );
  }
  return lines;
}
