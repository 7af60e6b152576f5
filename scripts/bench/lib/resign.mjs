// The re-signing scenario: a hub-like model is signed, verified with
// --trust-cache while unchanged, then its README is edited and it is
// re-signed incrementally, in full, and in full by the reference. The
// incremental payload must equal the full one, and the reference must
// accept the incremental signature.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordSettleMs } from '../../../packages/core/dist/node/incremental/record.js';
import { median } from './measure.mjs';
import { referenceCommand } from './tools.mjs';

const TRUST_CACHE_OVERHEAD_LIMIT_SECONDS = 0.1;
const INCREMENTAL_SPEEDUP_TARGET = 20;
/**
 * The local record vouches only for files whose times were older than the
 * settle time (72 s with Linux's writeback defaults, docs/incremental.md)
 * when it was written. Rather than wait that long after linking the model,
 * our CLI runs in this scenario see a clock that much ahead (a preload that
 * moves Date.now(), the record's stat time).
 */
const SHIFTED_CLOCK = fileURLToPath(new URL('../../../test-fixtures/shifted-clock.mjs', import.meta.url));

function payloadOf(signature) {
  return JSON.parse(fs.readFileSync(signature, 'utf8')).dsseEnvelope.payload;
}

/**
 * Runs the scenario once on a hard-linked copy of `scenario.model` (so the
 * shared model's bytes are never edited) and records the samples through
 * `record(sample, command)`. Returns failure messages.
 */
export async function runResign({ scenario, tools, keys, dataDir, signatureDir, reference, run, record }) {
  const model = path.join(dataDir, 'models', `${scenario.name}-resign`);
  fs.rmSync(model, { recursive: true, force: true });
  execFileSync('cp', ['-al', scenario.model, model]);
  // Linking changed every file's ctime: the runs below see them as older than the settle time.
  const settle = recordSettleMs();
  if (settle === null)
    return ['resign: this machine bounds no writeback (vm.dirty_writeback_centisecs 0?), so a local record proves nothing'];
  const savedShift = process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS;
  process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS = String(settle + 1000);
  try {
    return await resignScenario({ model, tools, keys, signatureDir, reference, run, record, scenario });
  } finally {
    if (savedShift === undefined) delete process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS;
    else process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS = savedShift;
    fs.rmSync(model, { recursive: true, force: true });
  }
}

async function resignScenario({ model, tools, keys, signatureDir, reference, run, record, scenario }) {
  const signature = path.join(signatureDir, 'resign-incremental.sig');
  const fullSignature = path.join(signatureDir, 'resign-full.sig');
  const referenceSignature = path.join(signatureDir, 'resign-reference.sig');
  const sign = (sig, extra = []) => [
    tools.node,
    ['--import', SHIFTED_CLOCK, tools.cli, 'sign', 'key', model, '--private-key', keys.privateKey, '--signature', sig, ...extra],
  ];
  const base = { scenario: 'resign', variant: scenario.name, run, tool: 'ours' };
  const failures = [];

  await record({ ...base, action: 'full-sign-before' }, sign(signature));
  const trusted = await record({ ...base, action: 'verify-trust-cache' }, [
    tools.node,
    [
      '--import',
      SHIFTED_CLOCK,
      tools.cli,
      'verify',
      'key',
      model,
      '--public-key',
      keys.publicKey,
      '--signature',
      signature,
      '--trust-cache',
      '--json',
    ],
  ]);
  if (trusted.exitCode === 0 && JSON.parse(trusted.stdout).reuse.rehashedFiles !== 0) {
    failures.push('resign: verify --trust-cache read files of the unchanged model');
  }

  // The edit: a new README replaces the linked one (the original model keeps its bytes).
  const readme = path.join(model, 'README.md');
  const edited = `${fs.readFileSync(readme, 'utf8')}\n## Evaluation\n\nEdited at ${new Date().toISOString()}.\n`;
  fs.writeFileSync(`${readme}.new`, edited);
  fs.renameSync(`${readme}.new`, readme);

  const incremental = await record({ ...base, action: 'incremental-sign' }, sign(signature, ['--incremental', '--json']));
  await record({ ...base, action: 'full-sign' }, sign(fullSignature));
  if (reference) {
    const variant = { id: 'files-sha256', method: 'files', hash: 'sha256' };
    await record(
      { ...base, tool: 'reference', action: 'full-sign' },
      referenceCommand(tools, 'sign', { model, signature: referenceSignature, keys, variant }),
    );
  }

  if (incremental.exitCode === 0) {
    const { reuse } = JSON.parse(incremental.stdout);
    if (reuse.rehashedFiles !== 1)
      failures.push(`resign: the incremental sign re-hashed ${reuse.rehashedFiles} files after a README edit, expected 1`);
    if (fs.existsSync(fullSignature) && payloadOf(signature) !== payloadOf(fullSignature)) {
      failures.push('resign: the incremental payload differs from a full sign');
    }
    if (reference) {
      try {
        execFileSync(tools.referenceCli, ['verify', 'key', model, '--signature', signature, '--public_key', keys.publicKey], {
          stdio: 'pipe',
        });
      } catch (err) {
        failures.push(
          `resign: the reference does not verify the incremental signature: ${String(err.stderr ?? err.message)
            .trim()
            .slice(-500)}`,
        );
      }
    }
  }
  return failures;
}

/** Medians of the scenario's measurements, and the speed-up of the incremental sign. */
export function summarizeResign(samples) {
  const wall = (tool, action) => {
    const s = samples.filter((x) => x.scenario === 'resign' && x.tool === tool && x.action === action);
    return s.length === 0 ? undefined : median(s.map((x) => x.wallSeconds));
  };
  const variant = samples.find((x) => x.scenario === 'resign')?.variant;
  if (variant === undefined) return undefined;
  const summary = {
    model: variant,
    incrementalSign: wall('ours', 'incremental-sign'),
    fullSign: wall('ours', 'full-sign'),
    referenceFullSign: wall('reference', 'full-sign'),
    verifyTrustCache: wall('ours', 'verify-trust-cache'),
  };
  summary.speedup = summary.fullSign && summary.incrementalSign ? summary.fullSign / summary.incrementalSign : undefined;
  summary.speedupVsReference =
    summary.referenceFullSign && summary.incrementalSign ? summary.referenceFullSign / summary.incrementalSign : undefined;
  return summary;
}

/** The scenario's targets; `startup` is the time to verify a tiny model (Node, core, a signature check). */
export function resignTargets(resign, startup) {
  if (!resign?.speedup) return [];
  const targets = [
    {
      id: 'incremental',
      description: `re-signing after a README edit: incremental ≥ ${INCREMENTAL_SPEEDUP_TARGET}× faster than a full sign`,
      met: resign.speedup >= INCREMENTAL_SPEEDUP_TARGET,
      detail: `${resign.speedup.toFixed(1)}× (${resign.incrementalSign.toFixed(2)} s vs ${resign.fullSign.toFixed(2)} s)`,
    },
  ];
  if (resign.verifyTrustCache !== undefined && startup !== undefined) {
    const overhead = resign.verifyTrustCache - startup;
    targets.push({
      id: 'trust-cache',
      description: '`verify --trust-cache` of the unchanged model: under 100 ms more than verifying a tiny model (start-up)',
      met: overhead < TRUST_CACHE_OVERHEAD_LIMIT_SECONDS,
      detail: `${Math.round(resign.verifyTrustCache * 1000)} ms, start-up ${Math.round(startup * 1000)} ms`,
    });
  }
  return targets;
}

/** The report's section. */
export function resignSection(resign, scenarioDescription) {
  if (!resign) return '';
  const s = (x) => (x === undefined ? '–' : `${x.toFixed(2)} s`);
  return `
## Re-signing after a README edit

The ${resign.model} model (${scenarioDescription}), hard-linked into a copy,
is signed, verified with \`--trust-cache\` while unchanged, then its
\`README.md\` is replaced and it is signed again: incrementally
(\`--incremental\`, which re-reads only the README), in full, and in full by
the reference. The incremental payload is checked equal to the full one and
the reference verifies the incremental signature (docs/incremental.md).

| | time |
|---|--:|
| ours, incremental re-sign | ${s(resign.incrementalSign)} |
| ours, full sign | ${s(resign.fullSign)} |
| reference, full sign | ${s(resign.referenceFullSign)} |
| ours, \`verify --trust-cache\` (unchanged model) | ${s(resign.verifyTrustCache)} |
| **incremental vs full** | ${resign.speedup ? `**${resign.speedup.toFixed(1)}×**` : '–'} |
| **incremental vs the reference's full sign** | ${resign.speedupVsReference ? `**${resign.speedupVsReference.toFixed(1)}×**` : '–'} |

An incremental re-sign costs start-up, walking and stat-ing the model,
verifying the previous signature and hashing what changed, so the speed-up
grows with the model's size.
`;
}
