#!/usr/bin/env node
// Installs the packages as a user would, outside the monorepo: packs every
// package (`pnpm pack`, as it would be published), checks what the tarballs
// carry, installs them into fresh npm projects in a temporary directory with
// their peer dependencies from the registry (our own packages only from the
// tarballs), then runs what the READMEs promise:
//
// - the CLI installed alone with `npm install -g` (into a temporary prefix;
//   no hub packages): sign and verify with a key, and
//   `hf …` failing with one line that says what to install;
// - every package installed together: the CLI's sign and verify, and each
//   package README's example, extracted from the README, type-checked with
//   `tsc` (strict) and run as ESM against real inputs (a key pair, a model
//   directory, a signed ONNX model, the loopback hub of @model-signing/hf-hub/testing,
//   a tiny transformers.js model uploaded signed to it).
//
// Run after `pnpm build`: node scripts/check-packages.mjs [--keep]
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['core', 'cli', 'hf-hub', 'onnx', 'tfjs', 'transformers'];
const keep = process.argv.includes('--keep');
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'oms-packages-'));

/** Runs a command; resolves with its output, rejects with everything it printed. */
function run(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { maxBuffer: 64 * 1024 * 1024, ...options, env: { ...process.env, NO_COLOR: '1', ...options.env } },
      (error, stdout, stderr) => {
        const result = { code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr };
        if (error && !options.allowFailure)
          reject(new Error(`${file} ${args.join(' ')} (in ${options.cwd ?? root}) exited ${result.code}\n${stdout}${stderr}`));
        else resolve(result);
      },
    );
  });
}

function ok(message) {
  console.log(`  ok: ${message}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** The range the repository tests a peer with, so the check installs what CI tests. */
async function devRange(pkg, dependency) {
  const json = JSON.parse(await fs.readFile(path.join(root, 'packages', pkg, 'package.json'), 'utf8'));
  const range = json.devDependencies?.[dependency];
  expect(range, `packages/${pkg} has no devDependency ${dependency}`);
  return `${dependency}@${range}`;
}

try {
  // 1. Pack, and check what each tarball carries.
  const tarballs = {};
  const tgzDir = path.join(work, 'tarballs');
  const license = await fs.readFile(path.join(root, 'LICENSE'), 'utf8');
  for (const pkg of PACKAGES) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', tgzDir], { cwd: path.join(root, 'packages', pkg) });
    const tgz = stdout
      .trim()
      .split('\n')
      .filter((line) => line.endsWith('.tgz'))
      .at(-1);
    expect(tgz, `pnpm pack printed no tarball name for ${pkg}:\n${stdout}`);
    tarballs[pkg] = path.resolve(tgzDir, path.basename(tgz));
    const unpacked = path.join(work, 'unpacked', pkg);
    await fs.mkdir(unpacked, { recursive: true });
    await run('tar', ['-xzf', tarballs[pkg], '-C', unpacked]);
    const dir = path.join(unpacked, 'package');
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
    expect(
      (await fs.readFile(path.join(dir, 'README.md'), 'utf8')).startsWith(`# ${manifest.name}`),
      `${pkg}: the tarball's README.md is not the package's README`,
    );
    expect((await fs.readFile(path.join(dir, 'LICENSE'), 'utf8')) === license, `${pkg}: the tarball's LICENSE is not the repository's`);
    for (const field of ['repository', 'homepage', 'keywords', 'license']) expect(manifest[field], `${pkg}: package.json has no ${field}`);
    expect(
      !JSON.stringify(manifest).includes('workspace:'),
      `${pkg}: a workspace: range survived packing: ${JSON.stringify(manifest.dependencies)} ${JSON.stringify(manifest.peerDependencies)}`,
    );
    const files = (await fs.readdir(path.join(dir, 'dist'), { recursive: true })).map(String);
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const json = JSON.parse(await fs.readFile(path.join(dir, 'dist', map), 'utf8'));
      const complete =
        Array.isArray(json.sourcesContent) &&
        json.sourcesContent.length === json.sources.length &&
        json.sourcesContent.every((s) => typeof s === 'string');
      expect(complete, `${pkg}: dist/${map} refers to sources the tarball does not carry`);
    }
    ok(`${path.basename(tarballs[pkg])}: README, LICENSE, metadata, no workspace: ranges, source maps carry their sources`);
  }

  // 2. Inputs a user would have: a key pair and a model directory.
  async function userFiles(dir) {
    await fs.mkdir(path.join(dir, 'my-model', 'tokenizer'), { recursive: true });
    await fs.writeFile(path.join(dir, 'my-model', 'config.json'), '{"hidden_size": 8}');
    await fs.writeFile(path.join(dir, 'my-model', 'tokenizer', 'vocab.txt'), 'hello\nworld\n');
    await fs.writeFile(path.join(dir, 'my-model', 'model.safetensors'), Buffer.alloc(4096, 7));
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await fs.writeFile(path.join(dir, 'key.pem'), pair.privateKey.export({ type: 'sec1', format: 'pem' }));
    await fs.writeFile(path.join(dir, 'key.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }

  async function newProject(name, specs, env = {}) {
    const dir = path.join(work, name);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, env });
    await userFiles(dir);
    return dir;
  }

  /** The CLI's documented sign and verify (by default the project's node_modules/.bin one), with a tampered copy refused. */
  async function signAndVerify(dir, cli = path.join(dir, 'node_modules/.bin/model-signing')) {
    const signed = await run(cli, ['sign', 'key', './my-model', '--private-key', 'key.pem', '--signature', 'my-model.sig'], { cwd: dir });
    expect(signed.stdout.startsWith('Signing succeeded'), `sign printed: ${signed.stdout}`);
    const verified = await run(cli, ['verify', 'key', './my-model', '--signature', 'my-model.sig', '--public-key', 'key.pub'], {
      cwd: dir,
    });
    expect(verified.stdout === 'Verification succeeded\n', `verify printed: ${verified.stdout}`);
    await fs.appendFile(path.join(dir, 'my-model', 'config.json'), ' ');
    const tampered = await run(cli, ['verify', 'key', './my-model', '--signature', 'my-model.sig', '--public-key', 'key.pub'], {
      cwd: dir,
      allowFailure: true,
    });
    expect(
      tampered.code === 1 && tampered.stderr.includes('[DIGEST_MISMATCH]'),
      `a tampered model gave ${tampered.code}: ${tampered.stderr}`,
    );
    await fs.writeFile(path.join(dir, 'my-model', 'config.json'), '{"hidden_size": 8}');
    return cli;
  }

  // 3. The CLI alone, installed globally as its README says (into a
  //    temporary prefix): key signing works; the hub commands say what to install.
  console.log('==> the CLI installed alone (npm install -g, temporary prefix)');
  const prefix = path.join(work, 'global');
  await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', tarballs.core, tarballs.cli]);
  const alone = path.join(work, 'cli-alone');
  await fs.mkdir(alone);
  await userFiles(alone);
  const cliAlone = await signAndVerify(alone, path.join(prefix, 'bin', 'model-signing'));
  ok('model-signing sign key / verify key (and a tampered copy fails)');
  const installed = (await fs.readdir(path.join(prefix, 'lib', 'node_modules'), { recursive: true })).map(String);
  expect(
    !installed.some((n) => n.endsWith('@huggingface/hub') || n.endsWith('@model-signing/hf-hub')),
    'installing the CLI alone pulled in the hub packages',
  );
  const hub = await run(cliAlone, ['hf', 'download', 'key', 'my-org/my-model', '--public-key', 'key.pub'], {
    cwd: alone,
    allowFailure: true,
  });
  expect(hub.code === 1, `hf download without the hub packages exited ${hub.code}: ${hub.stderr}`);
  expect(
    hub.stderr.trimEnd().split('\n').length === 1 &&
      hub.stderr.includes('[MISSING_DEPENDENCY]') &&
      hub.stderr.includes('npm install -g @model-signing/hf-hub @huggingface/hub'),
    `hf download without the hub packages printed: ${hub.stderr}`,
  );
  ok('hf download without the hub packages: one line naming what to install, exit 1');

  // 4. Everything, with the peers the READMEs name.
  console.log('==> every package, with its peers');
  const peers = [
    await devRange('hf-hub', '@huggingface/hub'),
    await devRange('onnx', 'onnxruntime-node'),
    await devRange('onnx', 'onnxruntime-web'),
    await devRange('tfjs', '@tensorflow/tfjs'),
    await devRange('transformers', '@huggingface/transformers'),
    await devRange('cli', 'typescript'),
    await devRange('cli', '@types/node'),
  ];
  const all = await newProject('all-packages', [...PACKAGES.map((p) => tarballs[p]), ...peers], { ONNXRUNTIME_NODE_INSTALL: 'skip' });
  const cli = await signAndVerify(all);
  ok('model-signing sign key / verify key');

  // Each README's example, exactly as written, type-checked and compiled to ESM
  // (skipLibCheck, as in the repository: tfjs's and onnx-proto's own .d.ts
  // files do not pass a strict check, and they are not what is tested here).
  const snippets = path.join(all, 'snippets');
  await fs.mkdir(snippets);
  for (const pkg of ['core', 'onnx', 'tfjs', 'hf-hub', 'transformers']) {
    const readme = await fs.readFile(path.join(root, 'packages', pkg, 'README.md'), 'utf8');
    const example = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, `packages/${pkg}/README.md has no \`\`\`ts block under "## Example"`);
    await fs.writeFile(path.join(snippets, `${pkg}.ts`), example);
  }
  // The browser entries' README examples need a page (fetch from a model
  // server, WebAssembly): type-checked here against the installed packages,
  // not run; the Chromium tests and examples/browser run them.
  for (const pkg of ['onnx', 'tfjs']) {
    const readme = await fs.readFile(path.join(root, 'packages', pkg, 'README.md'), 'utf8');
    const example = /## In a browser\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, `packages/${pkg}/README.md has no \`\`\`ts block under "## In a browser"`);
    await fs.writeFile(path.join(snippets, `${pkg}-web.ts`), example);
  }
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      outDir: 'out',
      rootDir: 'snippets',
      types: ['node'],
      skipLibCheck: true,
    },
    include: ['snippets'],
  };
  await fs.writeFile(path.join(all, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await run(path.join(all, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: all });
  ok('the README examples, and the browser examples of onnx and tfjs, type-check (tsc --strict, NodeNext)');
  const example = (pkg, env = {}) => run(process.execPath, [path.join(all, 'out', `${pkg}.js`)], { cwd: all, env });

  const core = await example('core');
  expect(core.stdout.includes('verified 3 files'), `core example printed: ${core.stdout}${core.stderr}`);
  ok('core example: signs and verifies my-model');

  // ONNX: a tiny valid model (Y = X + B), signed with the CLI as the README says.
  const onnxProto = createRequire(path.join(root, 'packages/onnx/package.json'))('onnx-proto');
  const { onnx } = onnxProto;
  const tensor = (name) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } },
  });
  const model = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'add',
        node: [{ opType: 'Add', input: ['X', 'B'], output: ['Y'] }],
        initializer: [
          { name: 'B', dims: [2], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array([1, 2]).buffer) },
        ],
        input: [tensor('X')],
        output: [tensor('Y')],
      },
    }),
  ).finish();
  await fs.mkdir(path.join(all, 'model-dir'));
  await fs.writeFile(path.join(all, 'model-dir', 'model.onnx'), model);
  await run(cli, ['sign', 'key', 'model-dir', '--private-key', 'key.pem', '--signature', 'model-dir/model.sig'], { cwd: all });
  const onnxRun = await example('onnx');
  expect(onnxRun.stdout.includes("verified model with inputs [ 'X' ]"), `onnx example printed: ${onnxRun.stdout}${onnxRun.stderr}`);
  ok('onnx example: a session from a model signed with the CLI');

  const tfjs = await example('tfjs');
  expect(tfjs.stdout.includes('verified model with 1 layer'), `tfjs example printed: ${tfjs.stdout}${tfjs.stderr}`);
  const tfjsVerified = await run(
    cli,
    ['verify', 'key', 'my-tfjs-model', '--signature', 'my-tfjs-model/model.sig', '--public-key', 'key.pub'],
    { cwd: all },
  );
  expect(tfjsVerified.code === 0, "the CLI does not verify the tfjs example's signed model");
  ok('tfjs example: saves signed, loads verified (and the CLI verifies the saved model)');

  // Hugging Face: upload signed with the installed CLI to the loopback hub, then the README's download.
  const ts = createRequire(path.join(root, 'packages/cli/package.json'))('typescript');
  /** Imports a test helper of the repository, transpiled; `imports` maps its bare imports to the files they resolve to. */
  async function importTs(file, imports = {}) {
    let source = await fs.readFile(path.join(root, file), 'utf8');
    for (const [name, resolved] of Object.entries(imports))
      source = source.replaceAll(`from '${name}'`, `from '${pathToFileURL(resolved).href}'`);
    const out = path.join(work, `${path.basename(file, '.ts')}.mjs`);
    await fs.writeFile(
      out,
      ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText,
    );
    return import(pathToFileURL(out).href);
  }
  // The loopback hub as a user's tests get it: the installed package's testing export.
  const { FakeHub } = await import(
    pathToFileURL(createRequire(path.join(all, 'package.json')).resolve('@model-signing/hf-hub/testing')).href
  );
  const fakeHub = await FakeHub.start();
  try {
    fakeHub.createRepo('my-org/my-model');
    const env = { HF_ENDPOINT: fakeHub.url, HF_TOKEN: 'hf_check_packages', HF_HUB_CACHE: path.join(all, 'hf-cache') };
    await run(cli, ['hf', 'upload', 'key', './my-model', 'my-org/my-model', '--private-key', 'key.pem'], { cwd: all, env });
    const hf = await example('hf-hub', env);
    expect(
      hf.stdout.trim().startsWith(path.join(all, 'hf-cache', 'models--my-org--my-model', 'snapshots')),
      `hf-hub example printed: ${hf.stdout}${hf.stderr}`,
    );
    ok('hf-hub example: downloads verified a repo the CLI uploaded signed');

    // transformers.js: the tiny BERT its tests build, uploaded signed with the CLI, then the README's pipeline.
    const onnxProtoPath = createRequire(path.join(root, 'packages/transformers/package.json')).resolve('onnx-proto');
    const { tinyBertFiles } = await importTs('packages/transformers/test/fixtures/tiny-bert.ts', { 'onnx-proto': onnxProtoPath });
    for (const [name, data] of Object.entries(tinyBertFiles())) {
      await fs.mkdir(path.dirname(path.join(all, 'tiny-bert', name)), { recursive: true });
      await fs.writeFile(path.join(all, 'tiny-bert', name), data);
    }
    fakeHub.createRepo('my-org/tiny-bert');
    await run(cli, ['hf', 'upload', 'key', './tiny-bert', 'my-org/tiny-bert', '--private-key', 'key.pem'], { cwd: all, env });
    const transformers = await example('transformers', env);
    expect(
      transformers.stdout.includes('[ 1, 4 ]') && transformers.stdout.includes("'onnx/model.onnx'"),
      `transformers example printed: ${transformers.stdout}${transformers.stderr}`,
    );
    expect(
      (await fs.readdir(path.join(all, 'verified-models', 'my-org', 'tiny-bert'))).length === 1,
      'the transformers example cached nothing under verified-models/my-org/tiny-bert',
    );
    ok('transformers example: a pipeline loads only verified files of a repo the CLI uploaded signed');
  } finally {
    await fakeHub.close();
  }
  console.log('package check passed');
} catch (err) {
  console.error(`package check failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${work}`);
  else await fs.rm(work, { recursive: true, force: true });
}
