// `pnpm model-signing …` runs package scripts from the repository root, but
// the user means paths relative to where they typed the command (pnpm passes
// that directory as INIT_CWD): run the CLI from there.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
await import(new URL('../packages/cli/dist/bin.js', import.meta.url).href);
