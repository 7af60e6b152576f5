import fs from 'node:fs';
import type { Command, Option } from 'commander';
import { UsageError } from './output.js';

/** Signing methods every command that takes one accepts (`sign` also has the PKCS#11 ones, read from its subcommands). */
export const METHODS = ['sigstore', 'key', 'certificate'] as const;

const isMethod = (word: string | undefined): boolean => (METHODS as readonly string[]).includes(word ?? '');
const isHelp = (word: string | undefined): boolean => word === '-h' || word === '--help' || word === 'help';

/**
 * Rewrites raw arguments so the reference's spellings keep working:
 * `--private_key` becomes `--private-key` (model_signing 1.1 spells many
 * flags with underscores).
 */
export function normalizeArgv(args: readonly string[]): string[] {
  return args.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    return flag.replace(/_/g, '-') + (eq < 0 ? '' : arg.slice(eq));
  });
}

/** The option `token` names among `options`, matching `--flag`, `--flag=value` and `-f`. */
function findOption(options: readonly Option[], token: string): Option | undefined {
  const flag = token.startsWith('--') ? token.split('=', 1)[0] : token;
  return options.find((o) => o.long === flag || o.short === flag);
}

/**
 * Indexes of the positional words in `args`, skipping option values as
 * `options` define them (`--private-key key.pem`: `key.pem` is a value).
 * Everything after `--` is positional.
 */
function positionals(args: readonly string[], options: readonly Option[]): number[] {
  const found: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      for (let j = i + 1; j < args.length; j++) found.push(j);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      found.push(i);
      continue;
    }
    const option = findOption(options, arg);
    const takesValue = option !== undefined && (option.required || option.optional);
    if (takesValue && !arg.includes('=') && !(option.optional && args[i + 1]?.startsWith('-'))) i++;
  }
  return found;
}

const subcommand = (cmd: Command, name: string): Command | undefined => cmd.commands.find((c) => c.name() === name);

/**
 * Puts the signing method of `sign` and `verify` where the parser expects
 * it, or reports why there is none, so a mistake is named rather than
 * read as something else:
 *
 * - the method may come after options (`sign --private-key k.pem key m`);
 * - without a method, a path that exists means `sigstore` (the reference's
 *   default), but a word that is neither a method nor an existing path is
 *   an unknown method, and a key or certificate option is not silently
 *   taken as a Sigstore verification;
 * - `hf upload|download|verify` must start with a method; `--policy` takes
 *   its place for `hf download|verify` (and `verify`).
 *
 * @throws {UsageError} naming the mistake.
 */
export function placeMethod(program: Command, args: readonly string[]): string[] {
  const out = [...args];
  const commandIndex = positionals(out, program.options)[0];
  if (commandIndex === undefined) return out;
  const name = out[commandIndex];
  const rest = out.slice(commandIndex + 1);
  if (rest.length === 0 || isHelp(rest[0])) return out;

  if (name === 'hf') {
    const action = subcommand(program, 'hf')?.commands.find((c) => c.name() === rest[0]);
    if (!action || rest.includes('--help') || rest.includes('-h')) return out;
    const words = positionals(rest.slice(1), [...program.options, ...action.options]);
    const first = words[0] === undefined ? undefined : rest[words[0] + 1];
    // `hf download|verify --policy POLICY REPO`: the policy takes the method's place, as for `verify`.
    if (action.name() !== 'upload' && rest.some((a) => a === '--policy' || a.startsWith('--policy='))) {
      if (isMethod(first)) {
        throw new UsageError(
          `--policy takes the place of the method: drop '${first}' and its verifier options: model-signing hf ${action.name()} --policy POLICY REPO`,
        );
      }
      if (first === 'policy') return out;
      return [...out.slice(0, commandIndex + 2), 'policy', ...rest.slice(1)];
    }
    if (first !== undefined && !isMethod(first)) {
      throw new UsageError(
        `'${first}' is not a signing method; the method comes first: model-signing hf ${action.name()} <${METHODS.join('|')}> ${action.registeredArguments
          .slice(1)
          .map((a) => `<${a.name()}>`)
          .join(' ')} [options]`,
      );
    }
    return out;
  }

  const group = name === 'sign' || name === 'verify' ? subcommand(program, name) : undefined;
  if (!group) return out;
  // The group's own subcommands are its methods: `sign` has the PKCS#11 ones, `verify` does not.
  // `verify policy` is not a method: --policy chooses it (below).
  const methods = group.commands.filter((m) => m.name() !== 'policy');
  const names = methods.map((m) => m.name());
  const isGroupMethod = (word: string | undefined): boolean => names.includes(word ?? '');
  const options = [...program.options, ...group.commands.flatMap((m) => m.options)];
  const words = positionals(rest, options);
  // `verify --policy POLICY MODEL`: the policy says who must sign, so it takes the method's place (docs/policy.md).
  if (name === 'verify' && rest.some((a) => a === '--policy' || a.startsWith('--policy='))) {
    const method = words.map((i) => rest[i]).find(isGroupMethod);
    if (method !== undefined) {
      throw new UsageError(
        `--policy takes the place of the method: drop '${method}' and its verifier options: model-signing verify --policy POLICY MODEL`,
      );
    }
    if (rest[words[0]] === 'policy') rest.splice(words[0], 1);
    return [...out.slice(0, commandIndex + 1), 'policy', ...rest];
  }
  const methodAt = words.find((i) => isGroupMethod(rest[i]));
  if (methodAt !== undefined && methodAt === words[0]) {
    // Options before the method belong to the method's command: move the method ahead of them.
    const [method] = rest.splice(methodAt, 1);
    return [...out.slice(0, commandIndex + 1), method, ...rest];
  }
  if (rest.includes('--help') || rest.includes('-h')) return out;
  const first = words[0] === undefined ? undefined : rest[words[0]];
  const usage = `model-signing ${name} <${names.join('|')}> MODEL [options]`;
  if (first === undefined) throw new UsageError(`missing the model to ${name}: ${usage}`);
  if (!fs.existsSync(first)) {
    throw new UsageError(`unknown method '${first}' (and no such model path); name one of ${names.join(', ')}: ${usage}`);
  }
  const sigstore = subcommand(group, 'sigstore')!;
  for (const arg of rest) {
    if (!arg.startsWith('--') || findOption(sigstore.options, arg) || findOption(program.options, arg)) continue;
    const owners = methods.filter((m) => findOption(m.options, arg)).map((m) => m.name());
    if (owners.length > 0) {
      const flag = arg.split('=', 1)[0];
      throw new UsageError(
        `${flag} belongs to the ${owners.join(' or ')} method, but no method was named (without one, ${name} means sigstore): model-signing ${name} ${owners[0]} ${first} …`,
      );
    }
  }
  return [...out.slice(0, commandIndex + 1), 'sigstore', ...rest];
}
