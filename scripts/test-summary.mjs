// Adds up the vitest JSON reports of every package, plus the script checks
// (examples, benchmark smoke run) counted by scripts/test.sh, and prints the
// total as the last line: "N passed, N failed[, N skipped]". Exits 1 if
// anything failed or a package produced no report (it crashed before reporting).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? 0 : Number(process.argv[i + 1]) || 0;
};
let passed = flag('--checks-passed');
let failed = flag('--checks-failed');
let skipped = 0;
if (passed + failed > 0) console.log(`script checks (examples, benchmark smoke): ${passed} passed, ${failed} failed`);
for (const name of fs.readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  const reportFile = path.join(dir, '.vitest-report.json');
  if (!fs.existsSync(reportFile)) {
    console.log(`${pkg.name}: no test report (the test run crashed or did not start)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  // A test file that fails to load counts as a failure even though it ran no test.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  const pkgFailed = report.numFailedTests + brokenFiles;
  const pkgSkipped = report.numPendingTests + report.numTodoTests;
  console.log(`${pkg.name}: ${report.numPassedTests} passed, ${pkgFailed} failed, ${pkgSkipped} skipped`);
  passed += report.numPassedTests;
  failed += pkgFailed;
  skipped += pkgSkipped;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
