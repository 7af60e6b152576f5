#!/usr/bin/env node
import module from 'node:module';

// Node ≥ 22.1 can keep the code it compiles for the CLI's modules on disk and
// reuse it on the next run, which is most of a short command's start-up.
// The cache goes where Node puts it by default (NODE_COMPILE_CACHE, else
// node-compile-cache/ in the temporary directory); Node turns itself off
// when that cannot be written (a read-only or missing directory only costs
// the speed-up), and NODE_DISABLE_COMPILE_CACHE=1 turns it off. It must be
// on before the rest of the CLI loads, hence the dynamic import below.
const { enableCompileCache } = module as { enableCompileCache?: () => unknown };
try {
  enableCompileCache?.();
} catch {
  // Never a reason not to run.
}

// `model-signing … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

const { run } = await import('./program.js');
process.exitCode = await run(process.argv.slice(2));
