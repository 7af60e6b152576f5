#!/usr/bin/env node
// Installs the packages as a user would, outside the monorepo: packs every
// package with the README's one command (as they would be published), checks
// what the tarballs carry and lints them (publint; @arethetypeswrong/cli on
// their type declarations), installs them into fresh npm projects in a
// temporary directory, made as the README says (`npm init -y`, then ESM),
// with their peer dependencies from the registry (our own packages only from
// the tarballs), then runs what the READMEs promise:
//
// - the CLI installed alone with `npm install -g` (into a temporary prefix;
//   no hub packages): sign and verify with a key, and
//   `hf …` failing with one line that says what to install;
// - every package installed together: the CLI's sign and verify, and each
//   package README's example, extracted from the README, type-checked with
//   `tsc` (strict) and run as ESM against real inputs (a key pair, a model
//   directory, a signed ONNX model, the loopback hub of @model-signing/hf-hub/testing,
//   a tiny transformers.js model uploaded signed to it);
// - @model-signing/onnx alone in a fresh project: its public types (and
//   core's) pass `tsc --strict` without skipLibCheck, so no third-party
//   declarations that fail a strict check leak into them.
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

/** A shell command of a ```sh block of the root README, found by a pattern, with /tmp/oms replaced by `tgzDir`. */
async function readmeCommand(pattern, tgzDir) {
  const readme = await fs.readFile(path.join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => pattern.test(l));
  expect(line, `README.md has no command matching ${pattern}`);
  return line.replace(/\s+#.*$/, '').replaceAll('/tmp/oms', tgzDir);
}

try {
  // 1. Pack all six with the README's one command, and check what each tarball carries.
  const tarballs = {};
  const tgzDir = path.join(work, 'tarballs');
  const pack = await readmeCommand(/^pnpm .*\bpack --pack-destination \/tmp\/oms/, tgzDir);
  await run('sh', ['-c', pack], { cwd: root });
  const packed = (await fs.readdir(tgzDir)).sort();
  expect(packed.length === PACKAGES.length, `the README's pack command (${pack}) made ${packed.join(', ')}, not one tarball per package`);
  const license = await fs.readFile(path.join(root, 'LICENSE'), 'utf8');
  const bin = (name) => path.join(root, 'node_modules', '.bin', name);
  for (const pkg of PACKAGES) {
    const { version } = JSON.parse(await fs.readFile(path.join(root, 'packages', pkg, 'package.json'), 'utf8'));
    tarballs[pkg] = path.join(tgzDir, `model-signing-${pkg}-${version}.tgz`);
    expect(packed.includes(path.basename(tarballs[pkg])), `the README's pack command made no ${path.basename(tarballs[pkg])}`);
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
    expect(
      (await fs.readFile(path.join(dir, 'CHANGELOG.md'), 'utf8')).startsWith(`# ${manifest.name}\n`),
      `${pkg}: the tarball has no CHANGELOG.md of its own`,
    );
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
    ok(`${path.basename(tarballs[pkg])}: README, CHANGELOG, LICENSE, metadata, no workspace: ranges, source maps carry their sources`);
    // publint: package.json against what the tarball holds (exports, files, types), warnings included.
    await run(bin('publint'), ['run', '--strict', tarballs[pkg]]);
    // Are the types wrong: each entry point's declarations resolve as its JavaScript does,
    // for ESM importers (node16 and bundlers); ESM-only packages, so CommonJS require is out of scope.
    await run(bin('attw'), ['--profile', 'esm-only', '--format', 'ascii', '--no-emoji', '--no-color', tarballs[pkg]]);
    ok(`${path.basename(tarballs[pkg])}: publint (strict) and @arethetypeswrong/cli (ESM) find nothing`);
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

  // A new project as the README makes one: `npm init -y` (CommonJS), then ESM for the snippets' top-level await.
  const esm = await readmeCommand(/^npm init -y && npm pkg set type=module/, tgzDir);
  async function newProject(name, specs, env = {}) {
    const dir = path.join(work, name);
    await fs.mkdir(dir, { recursive: true });
    await run('sh', ['-c', esm], { cwd: dir });
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
    expect(manifest.type === 'module', `the README's project set-up (${esm}) left package.json's type ${manifest.type}`);
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
  // (skipLibCheck, as in the repository: tfjs's own .d.ts files do not pass a
  // strict check, and they are not what is tested here; step 5 checks onnx's
  // and core's declarations without it).
  const snippets = path.join(all, 'snippets');
  await fs.mkdir(snippets);
  for (const pkg of ['core', 'onnx', 'tfjs', 'hf-hub', 'transformers']) {
    const readme = await fs.readFile(path.join(root, 'packages', pkg, 'README.md'), 'utf8');
    const example = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, `packages/${pkg}/README.md has no \`\`\`ts block under "## Example"`);
    // A project made with `npm init -y` is CommonJS, where the examples' top-level await fails: each README says so.
    expect(readme.includes('npm pkg set type=module'), `packages/${pkg}/README.md does not say the example needs "type": "module"`);
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
  // 5. @model-signing/onnx alone in a fresh project, its README examples
  //    type-checked strictly and without skipLibCheck: every declaration file
  //    its public types reach (its own, core's, onnxruntime's) must pass, so
  //    none may expose a dependency's types that do not (onnx-proto's need
  //    protobufjs's `Long`) or an optional peer's that may be absent
  //    (@aws-sdk/client-kms).
  console.log('==> @model-signing/onnx alone: its types under tsc --strict, without skipLibCheck');
  const strict = await newProject(
    'onnx-strict',
    [
      tarballs.core,
      tarballs.onnx,
      await devRange('onnx', 'onnxruntime-node'),
      await devRange('onnx', 'onnxruntime-web'),
      await devRange('cli', 'typescript'),
      await devRange('cli', '@types/node'),
    ],
    { ONNXRUNTIME_NODE_INSTALL: 'skip' },
  );
  await fs.mkdir(path.join(strict, 'snippets'));
  for (const name of ['onnx.ts', 'onnx-web.ts']) await fs.copyFile(path.join(snippets, name), path.join(strict, 'snippets', name));
  const strictConfig = { compilerOptions: { ...tsconfig.compilerOptions, skipLibCheck: false, noEmit: true }, include: ['snippets'] };
  await fs.writeFile(path.join(strict, 'tsconfig.json'), JSON.stringify(strictConfig, null, 2));
  await run(path.join(strict, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: strict });
  ok("onnx's README examples, Node and browser, type-check with every declaration they reach (tsc --strict, no skipLibCheck)");
  console.log('package check passed');
} catch (err) {
  console.error(`package check failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${work}`);
  else await fs.rm(work, { recursive: true, force: true });
}
