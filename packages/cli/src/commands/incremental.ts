import { Command } from 'commander';
import type { IncrementalOptions, Verifier } from '@model-signing/core';
import { UsageError } from '../output.js';
import { resolveIgnorePaths } from './common.js';
import { createSigstoreVerifier } from './sigstore.js';
import type { SignCommandMethod, SignerCliOptions } from './signers.js';

/** The options of `sign … --incremental`. */
export interface IncrementalCliOptions {
  incremental: boolean;
  previousSignature?: string;
  changed: string[];
  dryRun: boolean;
  /** Sigstore: the identity the previous signature must carry (default: the email of --identity-token). */
  identity?: string;
  identityProvider?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds --incremental, --previous-signature, --changed, --dry-run (and, for sigstore, the identity to check the previous signature against). */
export function addIncrementalOptions(cmd: Command, method: SignCommandMethod): Command {
  cmd
    .option(
      '--incremental',
      're-sign from the previous signature: hash only files the local record cannot prove unchanged (docs/incremental.md)',
      false,
    )
    .option('--previous-signature <path>', 'with --incremental: the signature to start from (default: --signature)')
    .option('--changed <path>', 'with --incremental: a file or directory to hash again whatever the record says; repeatable', collect, [])
    .option('--dry-run', 'with --incremental: print what would be hashed and reused; read and write nothing', false);
  if (method === 'sigstore') {
    cmd
      .option(
        '--identity <identity>',
        'with --incremental: the identity (certificate SAN) the previous signature must carry (default: the email of --identity-token)',
      )
      .option(
        '--identity-provider <issuer>',
        'with --incremental: the OIDC issuer the previous signature must carry (default: the issuer of --identity-token)',
      );
  }
  return cmd;
}

/**
 * The incremental options for core, or undefined without --incremental. The
 * previous signature must verify with the signer's own identity: for keys
 * (files, PKCS#11, KMS) and certificates core derives it from the signer;
 * for Sigstore it is the identity the user states (or the token's email).
 */
export async function incrementalOptionsFrom(
  method: SignCommandMethod,
  modelPath: string,
  opts: IncrementalCliOptions & SignerCliOptions,
): Promise<IncrementalOptions | undefined> {
  if (!opts.incremental) {
    const stray =
      opts.previousSignature !== undefined
        ? '--previous-signature'
        : opts.changed.length > 0
          ? '--changed'
          : opts.dryRun
            ? '--dry-run'
            : undefined;
    if (stray) throw new UsageError(`${stray} only applies with --incremental`);
    return undefined;
  }
  const options: IncrementalOptions = { changed: resolveIgnorePaths(modelPath, opts.changed) };
  if (method === 'sigstore') options.verifier = await sigstoreIdentityVerifier(opts);
  if (opts.previousSignature !== undefined) options.previousSignaturePath = opts.previousSignature;
  return options;
}

/** A keyless signer has no key of its own: the previous signature must carry the identity the user states. */
async function sigstoreIdentityVerifier(opts: IncrementalCliOptions & SignerCliOptions): Promise<Verifier> {
  const fromToken = opts.identityToken !== undefined ? emailIdentityOf(opts.identityToken) : undefined;
  const identity = opts.identity ?? fromToken?.identity;
  const identityProvider = opts.identityProvider ?? fromToken?.issuer;
  if (identity === undefined || identityProvider === undefined) {
    throw new UsageError(
      '--incremental with sigstore needs --identity and --identity-provider (or an --identity-token with an email): the identity the previous signature must carry',
    );
  }
  return createSigstoreVerifier({
    identity,
    identityProvider,
    useStaging: opts.useStaging ?? false,
    offline: false,
    ...(opts.trustConfig !== undefined ? { trustConfig: opts.trustConfig } : {}),
  });
}

/**
 * The identity Fulcio certifies for a token with a verified email: the email
 * and the token's issuer. Other tokens (CI workflows) are certified under
 * URIs this cannot predict, so the user states those. The token's signature
 * is not checked here: this only chooses what the previous signature must
 * match, and Fulcio checks the token when signing.
 */
function emailIdentityOf(token: string): { identity: string; issuer: string } | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const { email, iss } = claims;
    return typeof email === 'string' && typeof iss === 'string' && claims['email_verified'] !== false
      ? { identity: email, issuer: iss }
      : undefined;
  } catch {
    return undefined;
  }
}
