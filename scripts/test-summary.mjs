// Adds up the vitest JSON reports of every package on every Node line tested,
// plus the script checks (examples, benchmark smoke run, …) counted by
// scripts/test.sh, and prints the total as the last line, alone: "N passed,
// N failed" (skipped tests, if any, on the line before). The default line's reports are .vitest-report.json
// (turbo run test); each other line's are .vitest-report.node<LINE>.json
// (scripts/test-node-line.sh). Exits 1 if anything failed or a package
// produced no report on a line it should have run on (it crashed before
// reporting).
//
// Usage: node scripts/test-summary.mjs [--checks-passed N] [--checks-failed N] [--node-lines "22 24 26"]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const count = (name) => Number(option(name)) || 0;

/** Workspace packages with a test script: packages/* and the GitHub Action. */
function testedPackages() {
  const dirs = [
    ...fs
      .readdirSync(path.join(root, 'packages'))
      .sort()
      .map((name) => path.join(root, 'packages', name)),
    path.join(root, 'action'),
  ];
  return dirs.flatMap((dir) => {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) return [];
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    return pkg.scripts?.test ? [{ dir, name: pkg.name }] : [];
  });
}

/** The version a line's binary reports, from scripts/node-lines.env; the line alone if it cannot be run. */
function lineVersion(line) {
  const env = path.join(root, 'scripts', 'node-lines.env');
  const entry = fs.existsSync(env)
    ? fs
        .readFileSync(env, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`MODEL_SIGNING_NODE_${line}=`))
    : undefined;
  try {
    return execFileSync(entry.slice(entry.indexOf('=') + 1), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return `${line}.x`;
  }
}

let passed = count('--checks-passed');
let failed = count('--checks-failed');
let skipped = 0;
if (passed + failed > 0) console.log(`script checks (lint, examples, benchmark smoke, packages, …): ${passed} passed, ${failed} failed`);

const lines = [
  { label: `Node ${process.version} (default line: every test)`, report: '.vitest-report.json' },
  ...(option('--node-lines') ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((line) => ({ label: `Node ${lineVersion(line)} (every test but the Chromium ones)`, report: `.vitest-report.node${line}.json` })),
];
const packages = testedPackages();
for (const { label, report: reportName } of lines) {
  console.log(`${label}:`);
  for (const pkg of packages) {
    const reportFile = path.join(pkg.dir, reportName);
    if (!fs.existsSync(reportFile)) {
      console.log(`  ${pkg.name}: no test report (the test run crashed or did not start)`);
      failed += 1;
      continue;
    }
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    // A test file that fails to load counts as a failure even though it ran no test.
    const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
    const pkgFailed = report.numFailedTests + brokenFiles;
    const pkgSkipped = report.numPendingTests + report.numTodoTests;
    console.log(`  ${pkg.name}: ${report.numPassedTests} passed, ${pkgFailed} failed, ${pkgSkipped} skipped`);
    passed += report.numPassedTests;
    failed += pkgFailed;
    skipped += pkgSkipped;
  }
}
// The last line is the total alone, exactly "N passed, N failed" (CI reads it); skipped tests are said the line before.
if (skipped) console.log(`${skipped} skipped (each package's count above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
