// Runtime-neutral (no `node:*`). A Hugging Face model card (README.md with
// YAML front matter) turned into a CycloneDX 1.6 model card.
import { ModelSigningError } from '../../errors.js';
import { CYCLONEDX_SPEC_VERSION, validateModelCard, type CycloneDxBom } from './model-card.js';
import { isRecord } from './predicate-type.js';

// huggingface_hub's rule (repocard.py, REGEX_YAML_BLOCK): the card starts with
// a `---` line (after optional whitespace) and the metadata runs to the next `---` line.
const FRONT_MATTER = /^(\s*---(?:\r\n|\r|\n))([\s\S]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))/;

/** The metadata of a Hugging Face model card, as huggingface_hub reads it. */
export type ModelCardMetadata = Record<string, unknown>;

/** One evaluation result of `model-index`, flattened as huggingface_hub's `EvalResult`. */
export interface EvalResult {
  taskType: string;
  taskName?: string;
  datasetType: string;
  datasetName: string;
  datasetConfig?: string;
  datasetSplit?: string;
  metricType: string;
  metricValue: unknown;
  metricName?: string;
}

function badCard(message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_MODEL_CARD', cause, message: `Invalid model card: ${message}` });
}

/**
 * Reads the YAML front matter of a Hugging Face model card (`README.md`):
 * the block between the first two `---` lines, as huggingface_hub finds it.
 * YAML 1.1 rules, as huggingface_hub's PyYAML reads them (`yes`/`no` are
 * booleans; later duplicate keys win); aliases are bounded.
 *
 * @throws {ModelSigningError} `BAD_MODEL_CARD` when there is no front matter,
 *   it is not valid YAML, or it is not a mapping.
 */
export async function readModelCardMetadata(readme: string): Promise<ModelCardMetadata> {
  const match = FRONT_MATTER.exec(readme);
  if (!match) throw badCard('the README has no metadata (a YAML block between --- lines at its start)');
  const { parseDocument } = await import('yaml'); // on first use: YAML is 70 modules
  const document = parseDocument(match[2], { version: '1.1', uniqueKeys: false, prettyErrors: true });
  if (document.errors.length > 0) {
    const [first] = document.errors;
    throw badCard(`its metadata is not valid YAML: ${first.message.split('\n')[0]}`, first);
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw badCard(`its metadata cannot be read: ${(cause as Error).message}`, cause);
  }
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) throw badCard('its metadata is not a YAML mapping (key: value)');
  return data;
}

function field(record: unknown, key: string, where: string): unknown {
  if (!isRecord(record) || !(key in record)) throw badCard(`model-index: ${where} has no '${key}'`);
  return record[key];
}

/** A YAML scalar as text (a number as written, an object as JSON), as huggingface_hub's str() would show it. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? 'null';
}

function optionalString(record: unknown, key: string): string | undefined {
  const value = isRecord(record) ? record[key] : undefined;
  return value === undefined || value === null ? undefined : text(value);
}

/**
 * Flattens `model-index` as huggingface_hub's `model_index_to_eval_results`
 * does: one result per metric, and the model name (of the last entry, as
 * huggingface_hub keeps it).
 *
 * @throws {ModelSigningError} `BAD_MODEL_CARD` when a required key is missing.
 */
export function modelIndexResults(modelIndex: unknown): { name: string; results: EvalResult[] } {
  if (!Array.isArray(modelIndex) || modelIndex.length === 0) throw badCard('model-index must be a non-empty list');
  let name = '';
  const results: EvalResult[] = [];
  modelIndex.forEach((entry, i) => {
    name = text(field(entry, 'name', `entry ${i}`));
    const entryResults = field(entry, 'results', `entry ${i}`);
    if (!Array.isArray(entryResults)) throw badCard(`model-index: entry ${i} results must be a list`);
    entryResults.forEach((result, j) => {
      const where = `entry ${i} result ${j}`;
      const task = field(result, 'task', where);
      const dataset = field(result, 'dataset', where);
      const metrics = field(result, 'metrics', where);
      if (!Array.isArray(metrics)) throw badCard(`model-index: ${where} metrics must be a list`);
      for (const metric of metrics) {
        const base: EvalResult = {
          taskType: text(field(task, 'type', `${where} task`)),
          datasetType: text(field(dataset, 'type', `${where} dataset`)),
          datasetName: text(field(dataset, 'name', `${where} dataset`)),
          metricType: text(field(metric, 'type', `${where} metric`)),
          metricValue: field(metric, 'value', `${where} metric`),
        };
        const optional = {
          taskName: optionalString(task, 'name'),
          datasetConfig: optionalString(dataset, 'config'),
          datasetSplit: optionalString(dataset, 'split'),
          metricName: optionalString(metric, 'name'),
        };
        results.push({ ...base, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) });
      }
    });
  });
  return { name, results };
}

/** Where a metric was measured: `<dataset name> (<dataset id>, <config>, <split>)`. */
export function metricSlice(result: EvalResult): string {
  const details = [result.datasetType, result.datasetConfig, result.datasetSplit].filter((d) => d !== undefined);
  return `${result.datasetName} (${details.join(', ')})`;
}

/** One string or a list of them, as card fields allow; other values are left out. */
function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : value === undefined || value === null ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** SPDX license ids by lower case: Hugging Face writes `apache-2.0`, SPDX `Apache-2.0`. */
async function spdxIds(): Promise<Map<string, string>> {
  const { default: spdx } = await import('./schemas/spdx.schema.json', { with: { type: 'json' } });
  return new Map(spdx.enum.map((id) => [id.toLowerCase(), id]));
}

function licenses(metadata: ModelCardMetadata, ids: Map<string, string>): Record<string, unknown>[] {
  const link = strings(metadata['license_link'])[0];
  return strings(metadata['license']).map((license) => {
    const id = ids.get(license.toLowerCase());
    if (id !== undefined) return { license: { id } };
    // `other` (with license_name) and the Hub's own ids (openrail, llama2, …) are not SPDX.
    const name = license === 'other' ? (strings(metadata['license_name'])[0] ?? license) : license;
    return { license: link === undefined ? { name } : { name, url: link } };
  });
}

/** Options for {@link modelCardFromReadme}. */
export interface ModelCardFromReadmeOptions {
  /** The model's name when the card names none (`model-index`, `model_name`); e.g. its folder name. */
  name: string;
  /** The model's version, if it has one. */
  version?: string;
}

/**
 * Builds a CycloneDX 1.6 model card from a Hugging Face `README.md`: a BOM
 * whose `metadata.component` is the `machine-learning-model` with
 *
 * - `licenses` from `license` (SPDX ids where they are SPDX, else named, with `license_link`);
 * - `modelCard.modelParameters.task` from `pipeline_tag` and `.datasets` from `datasets`;
 * - `pedigree.ancestors` from `base_model`;
 * - `tags` from `tags`; properties `huggingface:language`, `huggingface:library_name`,
 *   `huggingface:base_model_relation` from those fields;
 * - `modelCard.quantitativeAnalysis.performanceMetrics` from `model-index`
 *   (one per metric: type, value as written, and the dataset as the slice).
 *
 * The result is checked against the CycloneDX 1.6 schema.
 *
 * @throws {ModelSigningError} `BAD_MODEL_CARD` (no front matter, invalid YAML
 *   or `model-index`), `PREDICATE_INVALID` (a field the schema refuses).
 */
export async function modelCardFromReadme(readme: string, options: ModelCardFromReadmeOptions): Promise<CycloneDxBom> {
  const metadata = await readModelCardMetadata(readme);
  const index =
    metadata['model-index'] === undefined || metadata['model-index'] === null ? undefined : modelIndexResults(metadata['model-index']);
  const name = index?.name || strings(metadata['model_name'])[0] || options.name;
  const properties = [
    ...strings(metadata['language']).map((value) => ({ name: 'huggingface:language', value })),
    ...strings(metadata['library_name']).map((value) => ({ name: 'huggingface:library_name', value })),
    ...strings(metadata['base_model_relation']).map((value) => ({ name: 'huggingface:base_model_relation', value })),
  ];
  const modelParameters: Record<string, unknown> = {};
  const task = strings(metadata['pipeline_tag'])[0];
  if (task !== undefined) modelParameters['task'] = task;
  const datasets = strings(metadata['datasets']).map((dataset) => ({ type: 'dataset', name: dataset }));
  if (datasets.length > 0) modelParameters['datasets'] = datasets;
  const modelCard: Record<string, unknown> = { modelParameters };
  if (index && index.results.length > 0) {
    modelCard['quantitativeAnalysis'] = {
      performanceMetrics: index.results.map((r) => ({ type: r.metricType, value: text(r.metricValue), slice: metricSlice(r) })),
    };
  }
  const component: Record<string, unknown> = { type: 'machine-learning-model', 'bom-ref': 'model', name };
  if (options.version !== undefined) component['version'] = options.version;
  const licenseChoices = licenses(metadata, await spdxIds());
  if (licenseChoices.length > 0) component['licenses'] = licenseChoices;
  const ancestors = strings(metadata['base_model']).map((base) => ({ type: 'machine-learning-model', name: base }));
  if (ancestors.length > 0) component['pedigree'] = { ancestors };
  const tags = strings(metadata['tags']);
  if (tags.length > 0) component['tags'] = tags;
  if (properties.length > 0) component['properties'] = properties;
  component['modelCard'] = modelCard;
  const bom: CycloneDxBom = {
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${crypto.randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString(),
      tools: { components: [{ type: 'application', name: 'model-signing-js' }] },
      component,
    },
  };
  await validateModelCard(bom);
  return bom;
}
