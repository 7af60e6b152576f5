// The dataset scenarios (issue 25): models of very many small files, where
// the cost per file, not hashing, decides. They are scenarios like the
// others (generated once into bench-data/, timed against openssl split over
// the cores); this module adds their sizes, their per-file table, the
// append-only re-sign (1 % new files, --incremental) and their targets to
// the report.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordSettleMs } from '../../../packages/core/dist/node/incremental/record.js';
import { median } from './measure.mjs';
/** Full sizes: 200,000 files × 4 KiB; a million files × 1 KiB laid out as a dataset (1,000 folders × 1,000 files). */
export const DATASET_FULL_SIZES = {
  wide: { count: 200_000, bytes: 4096 },
  tree: { folders: 1000, filesPerFolder: 1000, bytes: 1024 },
};

/** Smoke sizes: the same shapes, a few thousand files. */
export const DATASET_SMOKE_SIZES = {
  wide: { count: 2000, bytes: 4096 },
  tree: { folders: 20, filesPerFolder: 100, bytes: 1024 },
};

/**
 * The dataset scenarios, in the shape of defineScenarios' (each file a path
 * and a size). The reference takes about 0.5 ms per file: it is timed once
 * on the 200,000-file scenario and skipped on the million (8 minutes per
 * operation).
 */
export function datasetScenarios(sizes, formatBytes) {
  const { wide, tree } = sizes;
  const million = tree.folders * tree.filesPerFolder;
  return [
    {
      name: 'many-small-xl',
      dataset: true,
      description: `${wide.count.toLocaleString('en-US')} files × ${formatBytes(wide.bytes)}, 400 folders of ${Math.ceil(wide.count / 400).toLocaleString('en-US')}`,
      files: Array.from({ length: wide.count }, (_, i) => ({
        path: `split-${String(i % 20).padStart(2, '0')}/shard-${String(Math.floor(i / 20) % 20).padStart(2, '0')}/sample-${String(i).padStart(7, '0')}.bin`,
        bytes: wide.bytes,
      })),
      variants: [{ id: 'files-sha256', method: 'files', hash: 'sha256', limit: 'cores', referenceRuns: 1 }],
    },
    {
      name: 'dataset-tree',
      dataset: true,
      referenceSkipped: 'the reference would take about 8 minutes per operation at a million files (0.5 ms per file)',
      description: `${million.toLocaleString('en-US')} files × ${formatBytes(tree.bytes)} in a dataset-like tree: ${tree.folders.toLocaleString('en-US')} class folders × ${tree.filesPerFolder.toLocaleString('en-US')} files`,
      files: Array.from({ length: million }, (_, i) => ({
        path: `train/n${String(Math.floor(i / tree.filesPerFolder)).padStart(8, '0')}/img-${String(i % tree.filesPerFolder).padStart(5, '0')}.jpg`,
        bytes: tree.bytes,
      })),
      variants: [
        {
          id: 'files-sha256',
          method: 'files',
          hash: 'sha256',
          limit: 'cores',
          oursOnly: true,
        },
      ],
    },
  ];
}

const MB = 1e6;
const pct = (x) => `${Math.round(x * 100)}%`;
const micro = (seconds, files) => (seconds === undefined ? '–' : ((seconds / files) * 1e6).toFixed(1));

/** The per-file table: time per file of ours, the limit and the reference, and peak memory. */
export function datasetSection(summary, scenarios) {
  const models = scenarios.filter((s) => s.dataset || s.name === 'many-small');
  const rows = summary.rows.filter((r) => models.some((s) => s.name === r.scenario));
  if (rows.length === 0) return '';
  const lines = [
    '| scenario | files | op | ours µs/file | limit µs/file | reference µs/file | **ours / limit** | ours peak MB |',
    '|---|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const files = models.find((s) => s.name === r.scenario).files.length;
    lines.push(
      `| ${r.scenario} | ${files.toLocaleString('en-US')} | ${r.action} | ${micro(r.ours.wallSeconds, files)} | ${micro(r.limit?.wallSeconds, files)} | ${micro(r.reference?.wallSeconds, files)} | ${r.oursVsLimit === undefined ? '–' : `**${pct(r.oursVsLimit)}**`} | ${(r.ours.peakRssBytes / MB).toFixed(0)} |`,
    );
  }
  const skipped = scenarios.filter((s) => s.referenceSkipped).map((s) => `${s.name}: ${s.referenceSkipped}`);
  return `
## Datasets: cost per file

Models of many small files, where the cost per file (listing, opening,
reading, recording) decides rather than hashing. Time per file is the
whole process's wall time divided by the number of files; the limit is
openssl split over the cores, as above.${skipped.length > 0 ? ` Reference skipped on ${skipped.join('; ')}.` : ''}

${lines.join('\n')}
${appendParagraph(summary.append)}`;
}

/** Issue 25's goals for datasets, each with its verdict. */
export function datasetTargets(summary) {
  const targets = [];
  const rowsOf = (scenario) => summary.rows.filter((r) => r.scenario === scenario && r.variant === 'files-sha256');
  const judge = (id, description, rows, test, detail) => {
    if (rows.length === 0) return;
    targets.push({ id, description, met: rows.every(test), detail: rows.map(detail).join('; ') });
  };
  const vsLimit = (r) => `${r.scenario} ${r.action} ${r.oursVsLimit === undefined ? 'no limit measured' : pct(r.oursVsLimit)}`;
  judge(
    'datasets-many-small',
    'many-small: sign and verify at ≥ 50% of the machine limit',
    rowsOf('many-small'),
    (r) => r.oursVsLimit >= 0.5,
    vsLimit,
  );
  judge(
    'datasets-million',
    'dataset-tree: sign and verify at ≥ 40% of the machine limit, peak memory under 1 GB',
    rowsOf('dataset-tree'),
    (r) => r.oursVsLimit >= 0.4 && r.ours.peakRssBytes < 1e9,
    (r) => `${vsLimit(r)}, ${(r.ours.peakRssBytes / MB).toFixed(0)} MB`,
  );
  return targets;
}

/** What share of the dataset the append-only re-sign adds: a day's new shard. */
const APPEND_FRACTION = 0.01;
/** As in resign.mjs: our CLI sees a clock past the record's settle time, so linked files count as settled. */
const SHIFTED_CLOCK = fileURLToPath(new URL('../../../test-fixtures/shifted-clock.mjs', import.meta.url));

/**
 * The append-only re-sign (issue 25 §3) on a hard-linked copy of the
 * dataset: sign in full, add 1 % new files in new folders (a new day's
 * shard), then re-sign with --incremental and, to compare, in full. The
 * incremental signature must list every file. Returns failure messages.
 */
export async function runDatasetAppend({ scenario, tools, keys, dataDir, signatureDir, run, record }) {
  const model = path.join(dataDir, 'models', `${scenario.name}-append`);
  fs.rmSync(model, { recursive: true, force: true });
  execFileSync('cp', ['-al', scenario.model, model]);
  const settle = recordSettleMs();
  if (settle === null) return ['dataset-append: this machine bounds no writeback, so a local record proves nothing'];
  const savedShift = process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS;
  process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS = String(settle + 1000);
  const signature = path.join(signatureDir, `${scenario.name}-append.sig`);
  const sign = (extra = [], sig = signature) => [
    tools.node,
    ['--import', SHIFTED_CLOCK, tools.cli, 'sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig, ...extra],
  ];
  const base = { scenario: 'dataset-append', variant: scenario.name, run, tool: 'ours' };
  try {
    await record({ ...base, action: 'full-sign-before' }, sign());
    const added = Math.round(scenario.files.length * APPEND_FRACTION);
    const bytes = scenario.files[0].bytes;
    for (let i = 0; i < added; i++) {
      const dir = path.join(model, 'appended', `day-${String(Math.floor(i / 1000)).padStart(4, '0')}`);
      if (i % 1000 === 0) fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `img-${String(i % 1000).padStart(5, '0')}.jpg`), crypto.randomBytes(bytes));
    }
    await record({ ...base, action: 'incremental-sign', added }, sign(['--incremental']));
    // Nothing added since: what an incremental sign costs per file when it reads no file at all.
    await record({ ...base, action: 'incremental-unchanged' }, sign(['--incremental']));
    await record({ ...base, action: 'full-sign' }, sign([], path.join(signatureDir, `${scenario.name}-append-full.sig`)));
    const count = (sig) => {
      const payload = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));
      return payload.predicate.resources.length;
    };
    const listed = count(signature);
    return listed === scenario.files.length + added
      ? []
      : [`dataset-append: the incremental signature lists ${listed} files, expected ${scenario.files.length + added}`];
  } finally {
    if (savedShift === undefined) delete process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS;
    else process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS = savedShift;
    fs.rmSync(model, { recursive: true, force: true });
  }
}

/** The append-only re-sign's medians, from the samples. */
export function summarizeAppend(samples) {
  const of = (action) => samples.filter((x) => x.scenario === 'dataset-append' && x.action === action);
  const first = of('incremental-sign')[0];
  if (first === undefined) return undefined;
  const wall = (action) => (of(action).length === 0 ? undefined : median(of(action).map((x) => x.wallSeconds)));
  const peak = (action) => (of(action).length === 0 ? undefined : Math.max(...of(action).map((x) => x.peakRssBytes)));
  return {
    model: first.variant,
    added: first.added,
    incrementalSign: wall('incremental-sign'),
    incrementalPeakBytes: peak('incremental-sign'),
    unchanged: wall('incremental-unchanged'),
    fullSign: wall('full-sign'),
  };
}

/** The append-only re-sign as a paragraph of the dataset section. */
function appendParagraph(append) {
  if (append === undefined) return '';
  const s = (x) => (x === undefined ? '–' : `${x.toFixed(1)} s`);
  return `
Append-only re-sign (${append.model}): ${append.added.toLocaleString('en-US')} new files (1 %) added in new
folders, then \`sign --incremental\`: ${s(append.incrementalSign)} (peak ${(append.incrementalPeakBytes / MB).toFixed(0)} MB),
against ${s(append.fullSign)} for a full sign of the same files; again with nothing added: ${s(append.unchanged)}
(docs/incremental.md says what an incremental sign still does per file).
`;
}
