import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import type { SigstoreSigner, SigstoreSignerOptions, SigstoreVerifier, SigstoreVerifierOptions } from '@model-signing/core';
import { loadCore } from '../load-core.js';

/** CLI options of `sign sigstore`. */
export interface SigstoreSignCliOptions {
  identityToken?: string;
  useAmbientCredentials: boolean;
  oauthForceOob: boolean;
  clientId?: string;
  clientSecret?: string;
  useStaging: boolean;
  trustConfig?: string;
}

/** CLI options of `verify sigstore`. */
export interface SigstoreVerifyCliOptions {
  identity?: string;
  identityRegexp?: string;
  identityProvider: string;
  useStaging: boolean;
  trustConfig?: string;
  offline: boolean;
}

/** Adds the instance options shared by signing and verifying. */
function addInstanceOptions(cmd: Command): Command {
  return cmd
    .option('--use-staging', "use Sigstore's staging instance instead of production", false)
    .option('--trust-config <path>', 'Sigstore ClientTrustConfig JSON (trusted root + signing config) for a private instance');
}

/** Adds the identity-token and instance options of `sign sigstore`. */
export function addSigstoreSignOptions(cmd: Command): Command {
  return addInstanceOptions(cmd)
    .option('--identity-token <token>', 'OIDC identity token to use instead of signing in (sigstore)')
    .option('--use-ambient-credentials', "use the CI environment's OIDC credentials (GitHub Actions, SIGSTORE_ID_TOKEN)", false)
    .option('--oauth-force-oob', 'sign in by pasting a code instead of a browser redirect', false)
    .option('--client-id <id>', 'OAuth client id (default: sigstore)')
    .option('--client-secret <secret>', 'OAuth client secret (default: empty)');
}

/** Adds the identity policy and instance options of `verify sigstore`; `--identity-provider` is required when `required`. */
export function addSigstoreVerifyOptions(cmd: Command, required: boolean): Command {
  addInstanceOptions(cmd)
    .option('--identity <identity>', "the signer's identity (certificate SAN: email or URI), matched exactly")
    .option('--identity-regexp <pattern>', 'a regular expression the whole identity must match (e.g. for CI workflow identities)');
  const issuer = 'the OIDC issuer that vouched for the identity, matched exactly';
  if (required) cmd.requiredOption('--identity-provider <issuer>', issuer);
  else cmd.option('--identity-provider <issuer>', `${issuer} (sigstore)`);
  return cmd.option('--offline', 'never contact TUF; use the trusted roots shipped with the package', false);
}

/** Builds the keyless signer from CLI options. */
export async function createSigstoreSigner(opts: SigstoreSignCliOptions): Promise<SigstoreSigner> {
  const options: SigstoreSignerOptions = {
    useAmbientCredentials: opts.useAmbientCredentials,
    oauthForceOob: opts.oauthForceOob,
    useStaging: opts.useStaging,
  };
  // Sign-in needs a person at a terminal; in pipes and CI, fail at once
  // (IDENTITY_TOKEN_ERROR) instead of waiting for a browser that never comes.
  if (process.stdin.isTTY && process.stderr.isTTY) {
    options.onAuthorizationUrl = (url) => {
      process.stderr.write(`Sign in to Sigstore in your browser:\n  ${url}\n`);
      if (!opts.oauthForceOob) openBrowser(url);
    };
    options.readOobCode = async () => {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return (await prompt.question('Enter the verification code: ')).trim();
      } finally {
        prompt.close();
      }
    };
  }
  if (opts.identityToken !== undefined) options.identityToken = opts.identityToken;
  if (opts.clientId !== undefined) options.clientId = opts.clientId;
  if (opts.clientSecret !== undefined) options.clientSecret = opts.clientSecret;
  if (opts.trustConfig !== undefined) options.trustConfig = opts.trustConfig;
  return (await loadCore()).SigstoreSigner.create(options);
}

/**
 * Best effort: the URL is printed as well, so a machine without a desktop
 * (or a failing opener) still lets the user sign in by hand.
 */
function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener available: the printed URL is enough.
  }
}

/** Builds the keyless verifier from CLI options. */
export async function createSigstoreVerifier(opts: SigstoreVerifyCliOptions): Promise<SigstoreVerifier> {
  const options: SigstoreVerifierOptions = { identityProvider: opts.identityProvider, useStaging: opts.useStaging, offline: opts.offline };
  if (opts.identity !== undefined) options.identity = opts.identity;
  if (opts.identityRegexp !== undefined) options.identityRegExp = opts.identityRegexp;
  if (opts.trustConfig !== undefined) options.trustConfig = opts.trustConfig;
  return (await loadCore()).SigstoreVerifier.create(options);
}
