#!/usr/bin/env node
// The benchmark: `pnpm bench` (full run, writes docs/benchmarks.md and .json)
// or `node scripts/bench/run.mjs --smoke` (tiny sizes, for CI; exits non-zero
// on any failure). `--help` lists the options.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeEnvironment } from './lib/environment.mjs';
import { measure, median, waitForQuiet } from './lib/measure.mjs';
import { buildReport, evaluateTargets, summarize } from './lib/report.mjs';
import { FULL_SIZES, SMOKE_SIZES, defineScenarios, ensureScenarioData, warmPageCache } from './lib/scenarios.mjs';
import { limitCommands, oursCommand, referenceCommand, toolPaths } from './lib/tools.mjs';
import { crossCheck } from './lib/checks.mjs';
import { runResign } from './lib/resign.mjs';
import { runDatasetAppend } from './lib/datasets.mjs';
import { startupLines } from './lib/node-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const HELP = `Usage: node scripts/bench/run.mjs [options]

  --smoke              tiny sizes, one run, correctness checks; for CI
  --runs <n>           runs per measurement, medians reported (default 3; smoke 1)
  --scenarios <list>   comma-separated subset of: large-files, one-huge-file,
                       many-small, hub-like, large-files-small, many-small-xl,
                       dataset-tree (hub-like also runs the re-signing scenario:
                       README edit, --incremental; the last two are datasets,
                       200,000 and a million files, generated once: 1 and 4 GB
                       on disk, some minutes; dataset-tree also runs the
                       append-only re-sign, 1 % new files, --incremental)
  --scale <f>          multiply the sizes of the big files (default 1)
  --small-files <n>    number of files in many-small (default 20000)
  --data-dir <dir>     where models are generated (default bench-data/, git-ignored)
  --out <dir>          where benchmarks.md/.json go (default docs/; smoke: data dir)
  --keep-data          do not delete the generated models at the end
  --no-reference       skip the Python reference
  --quiet-wait <s>     before each measurement, wait up to this long for other
                       processes to leave the CPUs idle (default 5; smoke 0)
  -h, --help           this text`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string' },
      scenarios: { type: 'string' },
      scale: { type: 'string', default: '1' },
      'small-files': { type: 'string' },
      'data-dir': { type: 'string' },
      out: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      'no-reference': { type: 'boolean', default: false },
      'quiet-wait': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const positive = (name, text) => {
    const n = Number(text);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got '${text}'`);
    return n;
  };
  const smoke = values.smoke;
  const base = structuredClone(smoke ? SMOKE_SIZES : FULL_SIZES);
  const scale = positive('scale', values.scale);
  for (const key of ['largeFiles', 'hugeFile', 'hubLike']) base[key].bytes = Math.round(base[key].bytes * scale);
  if (values['small-files']) base.manySmall.count = Math.round(positive('small-files', values['small-files']));
  const dataDir = path.resolve(values['data-dir'] ?? path.join(root, 'bench-data', smoke ? 'smoke' : 'full'));
  return {
    smoke,
    sizes: base,
    scale,
    runs: Math.round(positive('runs', values.runs ?? (smoke ? '1' : '3'))),
    only: values.scenarios?.split(',').map((s) => s.trim()),
    dataDir,
    outDir: path.resolve(values.out ?? (smoke ? dataDir : path.join(root, 'docs'))),
    keepData: values['keep-data'],
    reference: !values['no-reference'],
    quietWaitMs: Number(values['quiet-wait'] ?? (smoke ? 0 : 5)) * 1000,
  };
}

function log(message) {
  process.stderr.write(`${message}\n`);
}

function ensureBuilt(tools) {
  if (!fs.existsSync(tools.cli)) {
    throw new Error(
      `${path.relative(root, tools.cli)} is missing: build the CLI first (pnpm bench does it: turbo run build --filter=@model-signing/cli...)`,
    );
  }
}

function ensureReference(tools) {
  if (fs.existsSync(tools.referenceCli)) return;
  log('Setting up the reference (scripts/setup-reference.sh)…');
  execFileSync('bash', [path.join(root, 'scripts/setup-reference.sh')], { stdio: 'inherit' });
}

function writeKeys(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = { privateKey: path.join(dir, 'signing-key.pem'), publicKey: path.join(dir, 'signing-key.pub.pem') };
  fs.writeFileSync(keys.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(keys.publicKey, publicKey.export({ type: 'spki', format: 'pem' }));
  return keys;
}

async function main() {
  const options = parseOptions();
  const tools = toolPaths(root);
  ensureBuilt(tools);
  if (options.reference) ensureReference(tools);
  const cores = os.availableParallelism();
  const environment = describeEnvironment(root, tools);
  log(`Benchmark (${options.smoke ? 'smoke' : 'full'}): ${environment.cpuModel}, ${cores} cores; data in ${options.dataDir}`);

  let scenarios = defineScenarios(options.sizes);
  if (options.only) {
    const unknown = options.only.filter((n) => !scenarios.some((s) => s.name === n));
    if (unknown.length > 0) throw new Error(`Unknown scenario(s): ${unknown.join(', ')}`);
    scenarios = scenarios.filter((s) => options.only.includes(s.name));
  }

  const started = Date.now();
  // Every sign and verify writes a local hash record (docs/incremental.md):
  // keep the benchmark's beside its data, out of the user's cache.
  process.env.XDG_CACHE_HOME = path.join(options.dataDir, 'cache');
  // Likewise Node's compile cache (Node >= 22.1), which the CLI turns on.
  process.env.NODE_COMPILE_CACHE = path.join(options.dataDir, 'cache', 'node-compile-cache');
  const keys = writeKeys(path.join(options.dataDir, 'keys'));
  const signatureDir = path.join(options.dataDir, 'signatures');
  fs.mkdirSync(signatureDir, { recursive: true });
  for (const scenario of scenarios) {
    scenario.model = path.join(options.dataDir, 'models', scenario.name);
    const t0 = Date.now();
    if (ensureScenarioData(scenario, scenario.model))
      log(`  generated ${scenario.name} (${scenario.description}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const samples = [];
  const failures = [];
  const record = async (sample, command) => {
    const busy = options.quietWaitMs > 0 ? await waitForQuiet({ maxWaitMs: options.quietWaitMs }) : undefined;
    const result = await measure(command[0], command[1], { cwd: root });
    const entry = {
      ...sample,
      wallSeconds: result.wallSeconds,
      cpuSeconds: result.cpuSeconds,
      peakRssBytes: result.peakRssBytes,
      exitCode: result.exitCode,
      backgroundBusy: busy,
    };
    samples.push(entry);
    if (result.exitCode !== 0) {
      failures.push(
        `${sample.tool} ${sample.action} on ${sample.scenario} (${sample.variant}) exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(-2000)}`,
      );
    }
    log(
      `  ${sample.scenario} ${sample.variant} ${sample.tool} ${sample.action}: ${result.wallSeconds.toFixed(3)} s, ${(result.peakRssBytes / 1e6).toFixed(0)} MB${result.exitCode ? ` FAILED (${result.exitCode})` : ''}`,
    );
    return result;
  };

  for (let run = 1; run <= options.runs; run++) {
    log(`Run ${run} of ${options.runs}`);
    for (const scenario of scenarios) {
      warmPageCache(scenario.model, scenario);
      for (const variant of scenario.variants) {
        const signatures = {
          ours: path.join(signatureDir, `${scenario.name}-${variant.id}-ours.sig`),
          reference: path.join(signatureDir, `${scenario.name}-${variant.id}-reference.sig`),
        };
        const context = (tool) => ({
          model: scenario.model,
          signature: signatures[tool],
          keys,
          variant,
          shardSize: options.sizes.shardSize,
        });
        const base = { scenario: scenario.name, variant: variant.id, run };
        const referenceToo = options.reference && !variant.oursOnly && run <= (variant.referenceRuns ?? options.runs);
        const tools_ = referenceToo ? ['ours', 'reference'] : ['ours'];
        for (const action of ['sign', 'verify']) {
          for (const tool of tools_) {
            const command = tool === 'ours' ? oursCommand(tools, action, context(tool)) : referenceCommand(tools, action, context(tool));
            await record({ ...base, tool, action }, command);
          }
        }
      }
      if (scenario.name === 'hub-like') {
        failures.push(
          ...(await runResign({
            scenario,
            tools,
            keys,
            dataDir: options.dataDir,
            signatureDir,
            reference: options.reference,
            run,
            record,
          })),
        );
      }
      // The append-only re-sign (three signs of a million files): once, not every run.
      if (scenario.name === 'dataset-tree' && run === 1) {
        failures.push(...(await runDatasetAppend({ scenario, tools, keys, dataDir: options.dataDir, signatureDir, run, record })));
      }
      if (scenario.variants.every((v) => v.limit === 'skip')) continue;
      const limits = limitCommands({ scenario, model: scenario.model, listDir: path.join(options.dataDir, 'lists'), cores });
      const base = { scenario: scenario.name, variant: 'openssl', run, tool: 'openssl' };
      if (limits.split) await record({ ...base, action: 'split' }, limits.split);
      await record({ ...base, action: 'every-core' }, limits.everyCore);
      if (scenario.variants.some((v) => v.limit === 'one-core')) await record({ ...base, action: 'one-core' }, limits.oneCore);
    }
  }

  log('Start-up');
  const tiny = path.join(options.dataDir, 'models', 'tiny');
  fs.mkdirSync(tiny, { recursive: true });
  fs.writeFileSync(path.join(tiny, 'config.json'), '{"model_type": "tiny"}\n');
  fs.writeFileSync(path.join(tiny, 'weights.bin'), crypto.randomBytes(64 * 1024));
  const tinyVariant = { id: 'files-sha256', method: 'files', hash: 'sha256' };
  const tinyContext = (tool) => ({
    model: tiny,
    signature: path.join(signatureDir, `tiny-${tool}.sig`),
    keys,
    variant: tinyVariant,
    shardSize: options.sizes.shardSize,
  });
  const startupRuns = options.smoke ? 3 : 10;
  await record(
    { scenario: 'tiny', variant: 'files-sha256', run: 0, tool: 'ours', action: 'sign' },
    oursCommand(tools, 'sign', tinyContext('ours')),
  );
  if (options.reference)
    await record(
      { scenario: 'tiny', variant: 'files-sha256', run: 0, tool: 'reference', action: 'sign' },
      referenceCommand(tools, 'sign', tinyContext('reference')),
    );
  for (let run = 1; run <= startupRuns; run++) {
    await record({ scenario: 'startup', variant: '--version', run, tool: 'ours', action: 'version' }, [
      tools.node,
      [tools.cli, '--version'],
    ]);
    await record(
      { scenario: 'tiny', variant: 'files-sha256', run, tool: 'ours', action: 'verify' },
      oursCommand(tools, 'verify', tinyContext('ours')),
    );
    if (options.reference && run <= 3) {
      await record(
        { scenario: 'tiny', variant: 'files-sha256', run, tool: 'reference', action: 'verify' },
        referenceCommand(tools, 'verify', tinyContext('reference')),
      );
    }
  }

  // The same start-up on the oldest supported Node line and the current LTS.
  try {
    for (const line of startupLines(root, log)) {
      for (let run = 1; run <= startupRuns; run++) {
        const sample = { scenario: 'startup-lines', variant: line.label, run, tool: 'ours' };
        await record({ ...sample, action: 'version' }, [line.node, [tools.cli, '--version']]);
        await record({ ...sample, action: 'verify' }, oursCommand({ ...tools, node: line.node }, 'verify', tinyContext('ours')));
      }
    }
  } catch (err) {
    failures.push(`start-up on other Node lines: ${err instanceof Error ? err.message : String(err)}`);
  }

  if (failures.length === 0) {
    log('Cross-checks');
    failures.push(
      ...(await crossCheck({
        scenarios,
        signatureDir,
        tools,
        keys,
        reference: options.reference,
        shardSize: options.sizes.shardSize,
        smoke: options.smoke,
        root,
      })),
    );
  }

  const summary = summarize(samples, scenarios, cores);
  const targets = evaluateTargets(summary, scenarios);
  const meta = {
    date: new Date().toISOString(),
    mode: options.smoke ? 'smoke' : 'full',
    runs: options.runs,
    scale: options.scale,
    shardSize: options.sizes.shardSize,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    backgroundBusyMedian: median(samples.filter((s) => s.backgroundBusy !== undefined).map((s) => s.backgroundBusy)),
  };
  const report = buildReport({ environment, meta, scenarios, summary, targets, failures });
  fs.mkdirSync(options.outDir, { recursive: true });
  const mdPath = path.join(options.outDir, 'benchmarks.md');
  // The last section, "Browser hashing", is written by
  // packages/core/test/browser/run-hash-bench.mjs; keep it.
  const previous = fs.existsSync(mdPath) ? fs.readFileSync(mdPath, 'utf8') : '';
  const browserSection = previous.indexOf('\n## Browser hashing\n');
  fs.writeFileSync(mdPath, browserSection < 0 ? report.markdown : `${report.markdown.trimEnd()}\n${previous.slice(browserSection)}`);
  fs.writeFileSync(
    path.join(options.outDir, 'benchmarks.json'),
    `${JSON.stringify({ environment, meta, scenarios: scenarios.map(({ files, model: _model, ...s }) => ({ ...s, fileCount: files.length })), summary, targets, failures, samples }, null, 2)}\n`,
  );
  console.log(report.table);
  // Tiny sizes say nothing about speed: a smoke run reports only its
  // correctness checks; the targets' verdicts belong to the full benchmark.
  if (options.smoke) {
    console.log(
      failures.length === 0
        ? 'Correctness checks passed: every manifest lists every file, ours and the reference agree digest for digest, openssl agrees, the reference accepts our signatures. (Speed targets are judged only by the full benchmark.)'
        : `Correctness checks failed: ${failures.length} (listed below).`,
    );
  } else {
    console.log(report.targetsText);
  }
  log(`Wrote ${path.join(options.outDir, 'benchmarks.md')} and benchmarks.json (${meta.durationSeconds} s)`);

  if (!options.keepData) {
    fs.rmSync(path.join(options.dataDir, 'models'), { recursive: true, force: true });
    fs.rmSync(path.join(options.dataDir, 'lists'), { recursive: true, force: true });
    fs.rmSync(signatureDir, { recursive: true, force: true });
    fs.rmSync(path.join(options.dataDir, 'keys'), { recursive: true, force: true });
    fs.rmSync(path.join(options.dataDir, 'cache'), { recursive: true, force: true });
  }
  if (failures.length > 0) {
    for (const f of failures) log(`FAILED: ${f}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  log(`Benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
