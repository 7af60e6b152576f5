// Programmatic entry point of the CLI, used by its tests and wrappers.
export { run } from './program.js';
export { normalizeArgv } from './argv.js';
