/** Signing methods the `sign` and `verify` commands take as their first argument (the PKCS#11 ones sign only). */
export const METHODS = ['sigstore', 'key', 'certificate', 'pkcs11-key', 'pkcs11-certificate'] as const;

/**
 * Rewrites raw arguments so the reference's spellings keep working:
 * `--private_key` becomes `--private-key` (model_signing 1.1 spells many
 * flags with underscores), and `sign MODEL` / `verify MODEL` without a
 * method mean `sigstore`, as in the reference.
 */
export function normalizeArgv(args: readonly string[]): string[] {
  const out = args.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    return flag.replace(/_/g, '-') + (eq < 0 ? '' : arg.slice(eq));
  });
  const commandIndex = out.findIndex((a) => !a.startsWith('-'));
  const command = out[commandIndex];
  if (command === 'sign' || command === 'verify') {
    const next = out[commandIndex + 1];
    const wantsHelp = next === '-h' || next === '--help' || next === 'help';
    if (next !== undefined && !wantsHelp && !(METHODS as readonly string[]).includes(next)) {
      out.splice(commandIndex + 1, 0, 'sigstore');
    }
  }
  return out;
}
