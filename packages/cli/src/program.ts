import { createRequire } from 'node:module';
import { Command, CommanderError, type Option } from 'commander';
import { normalizeArgv, placeMethod } from './argv.js';
import { attestCommands } from './commands/attest.js';
import { claimsCommand } from './commands/claims.js';
import { digestCommand } from './commands/digest.js';
import { hfCommands } from './commands/hf.js';
import { signCommands } from './commands/sign.js';
import { verifyCommands } from './commands/verify.js';
import { EXIT_OK, EXIT_USAGE, UsageError, escapeControlCharacters } from './output.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Runs the CLI with the given arguments (without `node` and the script) and
 * resolves to the exit code: 0 success, 1 failure, 2 usage error.
 */
export async function run(args: readonly string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  const program = new Command('model-signing')
    .description(
      'Sign and verify machine-learning models with OpenSSF Model Signing (OMS).\nSignatures are Sigstore bundles, interoperable with Python model_signing.',
    )
    .version(version, '-V, --version')
    .option('--log-level <level>', 'accepted for compatibility with the reference CLI; messages are not levelled')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addCommand(signCommands(setExitCode))
    .addCommand(verifyCommands(setExitCode))
    .addCommand(attestCommands(setExitCode))
    .addCommand(claimsCommand(setExitCode))
    .addCommand(digestCommand(setExitCode))
    .addCommand(hfCommands(setExitCode))
    .addHelpText(
      'after',
      `
Examples:
  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig
  $ model-signing verify key ./my-model --signature my-model.sig --public-key key.pub
  $ model-signing attest key ./my-model --private-key key.pem --model-card ./my-model/README.md
  $ model-signing claims ./my-model --signature claims.jsonl --public-key key.pub
  $ model-signing digest ./my-model

Exit codes: 0 success, 1 failure (the message says what and which file), 2 usage error.`,
    );
  // Subcommands inherit exitOverride so usage errors come back to us as exceptions.
  const propagate = (cmd: Command) => {
    cmd.exitOverride();
    checkRequiredOptionsLast(cmd);
    suggestOptions(cmd);
    cmd.commands.forEach(propagate);
  };
  propagate(program);
  try {
    const argv = placeMethod(program, normalizeArgv(args));
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Found before parsing (a misplaced method) or by a command (an option its method needs, e.g.
    // verify certificate without a trust anchor): one `error:` line, as commander's own usage errors.
    if (err instanceof UsageError) {
      process.stderr.write(escapeControlCharacters(`error: ${err.message}`) + '\n');
      return EXIT_USAGE;
    }
    if (err instanceof CommanderError) {
      // `--help` and `--version` exit 0; help shown because a command is incomplete (`model-signing`, `model-signing sign`) is a usage error.
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code) && err.exitCode === 0;
      return benign ? EXIT_OK : EXIT_USAGE;
    }
    throw err;
  }
  return exitCode;
}

/**
 * Commander reports a missing required option before an unknown one, so a
 * misspelt `--pubkey` reads as "required option '--public-key' not
 * specified". Required options are checked here after parsing instead (an
 * unknown option has failed by then), and marked "(required)" in `--help`.
 */
function checkRequiredOptionsLast(cmd: Command): void {
  const required = cmd.options.filter((o) => o.mandatory);
  if (required.length === 0) return;
  for (const option of required) {
    option.mandatory = false;
    option.description = `${option.description} (required)`;
  }
  cmd.hook('preAction', () => {
    const missing = required.find((o) => cmd.getOptionValue(o.attributeName()) === undefined);
    if (missing)
      cmd.error(`error: required option '${missing.flags}' not specified`, {
        code: 'commander.missingMandatoryOptionValue',
        exitCode: EXIT_USAGE,
      });
  });
}

/**
 * Adds "did you mean" to unknown-option errors with a looser match than
 * commander's (which gives up beyond three edits, so `--pubkey` got no
 * hint), and for the start of a flag (`--sig` → `--signature`; options are
 * never taken by abbreviation, only suggested); the reference suggests its
 * spelling in the same cases.
 */
function suggestOptions(cmd: Command): void {
  cmd.showSuggestionAfterError(false);
  cmd.configureOutput({
    outputError: (message, write) => {
      const flag = /^error: unknown option '(--[^'=]+)/.exec(message)?.[1];
      const candidates: Option[] = [];
      for (let c: Command | null = cmd; c; c = c.parent) candidates.push(...c.options);
      const longs = [...new Set(candidates.flatMap((o) => (o.long && !o.hidden ? [o.long] : [])))];
      const suggestion = flag === undefined ? undefined : suggest(flag, longs);
      write(suggestion === undefined ? message : message.replace(/\n?$/, ` (did you mean ${suggestion}?)\n`));
    },
  });
}

/**
 * What `flag` was likely meant to be: the flags it begins (`--sig`:
 * `--signature`; several are listed), else the most alike by spelling.
 */
function suggest(flag: string, candidates: readonly string[]): string | undefined {
  // `--` plus at least two letters, so `--s` or `--i` do not list half the options.
  const extended = flag.length >= 4 ? candidates.filter((c) => c.startsWith(flag)).sort() : [];
  if (extended.length > 0) return extended.length === 1 ? extended[0] : `one of ${extended.join(', ')}`;
  return closest(flag, candidates);
}

/** The candidate most like `word` (at least 60% alike by edit distance), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = 0.6;
  for (const candidate of candidates) {
    const score = 1 - editDistance(word, candidate) / Math.max(word.length, candidate.length);
    if (score >= bestScore) [best, bestScore] = [candidate, score];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
