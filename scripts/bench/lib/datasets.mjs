// The dataset scenarios (issue 25): models of very many small files, where
// the cost per file, not hashing, decides. They are scenarios like the
// others (generated once into bench-data/, timed against openssl split over
// the cores); this module adds their sizes, their per-file table and their
// targets to the report.
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
 * Until the bundle limit follows the model (issue 25 §2), a signature of a
 * million files (224 MB) needs the limit raised to be verified.
 */
const RAISED_BUNDLE_LIMIT = String(1024 * 1024 * 1024);

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
          verifyFlags: ['--max-bundle-size', RAISED_BUNDLE_LIMIT],
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
`;
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
