// Adds up the vitest JSON reports of every package and prints the total as
// the last line, "N passed, N failed[, N skipped]"; exits 1 if anything failed
// or a package produced no report (it crashed before reporting).
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const extraFailed = Number(process.argv[process.argv.indexOf('--extra-failed') + 1] ?? 0) || 0;
let passed = 0;
let failed = extraFailed;
let skipped = 0;
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
  console.log(`${pkg.name}: ${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenFiles;
  skipped += report.numPendingTests + report.numTodoTests;
}
if (extraFailed) console.log(`benchmark smoke run: failed`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
