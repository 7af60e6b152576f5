import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelCardFromReadme } from '../dist/index.js';
import { readModelCardMetadata } from '../dist/internal.js';
import { REPO_ROOT, cleanupTempDirs, expectCode, tempDir } from './helpers.js';

// The front matter → CycloneDX conversion, cross-checked against Python
// huggingface_hub's own reading of the same README.md (ModelCard.load and its
// model-index flattening), installed in .venv-ref by scripts/setup-reference.sh.

const PYTHON = path.join(process.env['MODEL_SIGNING_REFERENCE_VENV'] ?? path.join(REPO_ROOT, '.venv-ref'), 'bin/python');

const READ_CARDS = `
import json, sys
from huggingface_hub import ModelCard
out = []
for p in sys.argv[1:]:
    d = ModelCard.load(p).data
    results = [
        {k: getattr(r, k) for k in ("task_type", "task_name", "dataset_type", "dataset_name", "dataset_config", "dataset_split", "metric_type", "metric_value", "metric_name")}
        for r in (d.eval_results or [])
    ]
    out.append({
        "license": d.license, "license_name": d.get("license_name"), "license_link": d.get("license_link"),
        "datasets": d.datasets, "base_model": d.base_model, "language": d.language,
        "pipeline_tag": d.pipeline_tag, "tags": d.tags, "library_name": d.library_name,
        "model_name": d.model_name, "eval_results": results,
    })
print(json.dumps(out, default=str))
`;

const CARDS: Record<string, string> = {
  full: `---
license: mit
language: en
datasets:
  - stanfordnlp/imdb
  - glue
base_model:
  - google-bert/bert-base-uncased
pipeline_tag: text-classification
library_name: transformers
tags: [sentiment, "text classification"]
model-index:
  - name: bert-imdb
    results:
      - task: {type: text-classification, name: Text Classification}
        dataset: {type: stanfordnlp/imdb, name: IMDB, config: plain_text, split: test}
        metrics:
          - {type: accuracy, value: 0.9316, name: Accuracy}
          - {type: f1, value: 93.2}
      - task: {type: text-classification}
        dataset: {type: glue, name: GLUE SST-2, config: sst2, split: validation}
        metrics:
          - type: accuracy
            value: 1.0
---
# bert-imdb
`,
  crlfAndAnchors:
    '---\r\nlicense: cc-by-nc-4.0\r\nlanguage: &langs\r\n  - de\r\n  - fr\r\ntags: *langs\r\nbase_model: some/base\r\n---\r\nBody\r\n',
  otherLicense: `---
license: other
license_name: acme-research-license
license_link: https://example.com/license
pipeline_tag: image-classification
---
`,
  yaml11: `---
license: apache-2.0
language:
  - en
  - no
tags:
  - yes
  - "yes"
  - 42
---
`,
};

type HubCard = {
  license: string | null;
  license_name: string | null;
  license_link: string | null;
  datasets: string[] | null;
  base_model: string | string[] | null;
  language: unknown;
  pipeline_tag: string | null;
  tags: unknown[] | null;
  library_name: string | null;
  model_name: string | null;
  eval_results: Record<string, unknown>[];
};

let work: string;
let hub: Record<string, HubCard>;

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);
const strings = (v: unknown): string[] => list(v).filter((s): s is string => typeof s === 'string');

beforeAll(async () => {
  await fs.access(PYTHON).catch(() => {
    throw new Error(`Python with huggingface_hub is missing at ${PYTHON}; run scripts/setup-reference.sh`);
  });
  work = await tempDir('oms-model-card-');
  const names = Object.keys(CARDS);
  const files = await Promise.all(
    names.map(async (name) => {
      const file = path.join(work, `${name}.md`);
      await fs.writeFile(file, CARDS[name]);
      return file;
    }),
  );
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', READ_CARDS, ...files]);
  const cards = JSON.parse(stdout) as HubCard[];
  hub = Object.fromEntries(names.map((name, i) => [name, cards[i]]));
});
afterAll(cleanupTempDirs);

describe('model cards read as huggingface_hub reads them', () => {
  it.each(Object.keys(CARDS))('%s: every field lands where huggingface_hub puts it', async (name) => {
    const expected = hub[name];
    const bom = await modelCardFromReadme(CARDS[name], { name: 'folder-name' });
    const component = (bom['metadata'] as { component: Record<string, any> }).component;
    const properties = (component['properties'] ?? []) as { name: string; value: string }[];
    const property = (key: string) => properties.filter((p) => p.name === key).map((p) => p.value);

    expect(component['name']).toBe(expected.model_name ?? 'folder-name');
    const licenses = (component['licenses'] ?? []) as { license: { id?: string; name?: string; url?: string } }[];
    if (expected.license === null) expect(licenses).toEqual([]);
    else if (expected.license === 'other')
      expect(licenses).toEqual([{ license: { name: expected.license_name, url: expected.license_link } }]);
    else expect(licenses.map((l) => l.license.id?.toLowerCase())).toEqual([expected.license.toLowerCase()]);
    expect(component['modelCard'].modelParameters.task).toBe(expected.pipeline_tag ?? undefined);
    expect((component['modelCard'].modelParameters.datasets ?? []).map((d: { name: string }) => d.name)).toEqual(
      strings(expected.datasets),
    );
    expect((component['pedigree']?.ancestors ?? []).map((a: { name: string }) => a.name)).toEqual(strings(expected.base_model));
    expect(property('huggingface:language')).toEqual(strings(expected.language));
    expect(property('huggingface:library_name')).toEqual(strings(expected.library_name));
    expect(component['tags'] ?? []).toEqual(strings(expected.tags));

    const metrics = (component['modelCard'].quantitativeAnalysis?.performanceMetrics ?? []) as {
      type: string;
      value: string;
      slice: string;
    }[];
    expect(metrics).toHaveLength(expected.eval_results.length);
    metrics.forEach((metric, i) => {
      const r = expected.eval_results[i];
      expect(metric.type).toBe(r['metric_type']);
      expect(Number(metric.value)).toBe(Number(r['metric_value']));
      const details = [r['dataset_type'], r['dataset_config'], r['dataset_split']].filter((d): d is string => typeof d === 'string');
      expect(metric.slice).toBe(`${String(r['dataset_name'])} (${details.join(', ')})`);
    });
  });

  it('YAML 1.1, as PyYAML reads it: `no` and `yes` unquoted are booleans, and only strings are kept', async () => {
    expect(hub['yaml11'].language).toEqual(['en', false]);
    expect((await readModelCardMetadata(CARDS['yaml11']))['language']).toEqual(['en', false]);
  });

  it('front matter huggingface_hub cannot read either is BAD_MODEL_CARD here', async () => {
    const broken = path.join(work, 'broken.md');
    await fs.writeFile(broken, '---\nlicense: [mit\n---\n');
    await expect(promisify(execFile)(PYTHON, ['-c', READ_CARDS, broken])).rejects.toThrow();
    await expectCode(modelCardFromReadme('---\nlicense: [mit\n---\n', { name: 'm' }), 'BAD_MODEL_CARD');
  });
});
