import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { normalizeArgv } from './argv.js';
import { digestCommand } from './commands/digest.js';
import { hfCommands } from './commands/hf.js';
import { signCommands } from './commands/sign.js';
import { verifyCommands } from './commands/verify.js';
import { EXIT_OK, EXIT_USAGE } from './output.js';

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
    .description('Sign and verify machine-learning models with OpenSSF Model Signing (OMS).\nSignatures are Sigstore bundles, interoperable with Python model_signing.')
    .version(version, '-V, --version')
    .option('--log-level <level>', 'accepted for compatibility with the reference CLI; messages are not levelled')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addCommand(signCommands(setExitCode))
    .addCommand(verifyCommands(setExitCode))
    .addCommand(digestCommand(setExitCode))
    .addCommand(hfCommands(setExitCode))
    .addHelpText(
      'after',
      `
Examples:
  $ model-signing sign key ./my-model --private-key key.pem --signature my-model.sig
  $ model-signing verify key ./my-model --signature my-model.sig --public-key key.pub
  $ model-signing digest ./my-model

Exit codes: 0 success, 1 failure (the message says what and which file), 2 usage error.`,
    );
  // Subcommands inherit exitOverride so usage errors come back to us as exceptions.
  const propagate = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(propagate);
  };
  propagate(program);
  try {
    await program.parseAsync(normalizeArgv(args), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      return benign ? EXIT_OK : EXIT_USAGE;
    }
    throw err;
  }
  return exitCode;
}
