import { Command } from 'commander';
import type { Signer, SigningMethod } from '@model-signing/core';
import { loadCore } from '../load-core.js';
import { UsageError } from '../output.js';
import { addPkcs11Options, createKmsCliSigner, createPkcs11CliSigner, type Pkcs11CliOptions, type Pkcs11Method } from './key-services.js';
import { addSigstoreSignOptions, createSigstoreSigner, type SigstoreSignCliOptions } from './sigstore.js';

/** A `sign` subcommand: a verification method, or a PKCS#11 method (verified as key or certificate). */
export type SignCommandMethod = SigningMethod | Pkcs11Method;

/** Options that choose and configure a signer, for every method. */
export interface SignerCliOptions extends Partial<SigstoreSignCliOptions>, Pkcs11CliOptions {
  privateKey?: string;
  password?: string;
  signingCertificate?: string;
  certificateChain?: string[];
  tsaUrl?: string;
}

const repeatable = (value: string, previous: string[]) => [...previous, value];

/**
 * Adds the options of one signing method (required ones marked required),
 * or of every method when `method` is undefined (for commands that take the
 * method as an argument, such as `hf upload`).
 */
export function addSignerOptions(cmd: Command, method?: SignCommandMethod): Command {
  if (method === 'pkcs11-key' || method === 'pkcs11-certificate') return addTsaOption(addPkcs11Options(cmd, method), method);
  const need = (m: SigningMethod) => method === undefined || method === m;
  const required = method !== undefined;
  if (need('key') || need('certificate')) {
    const description = 'PEM private key (SEC1 or PKCS#8, optionally encrypted), or an AWS KMS key: kms://aws/<key id, alias/name or ARN>';
    if (required) cmd.requiredOption('--private-key <path>', description);
    else cmd.option('--private-key <path>', `${description} (key, certificate)`);
    cmd.option('--password <password>', 'password of an encrypted private key');
  }
  if (need('certificate')) {
    const description = 'PEM signing (leaf) certificate of the private key';
    if (required) cmd.requiredOption('--signing-certificate <path>', description);
    else cmd.option('--signing-certificate <path>', `${description} (certificate)`);
    cmd.option('--certificate-chain <path>', 'PEM intermediate certificates to include; repeatable, in order', repeatable, []);
  }
  if (need('sigstore')) addSigstoreSignOptions(cmd);
  return addTsaOption(cmd, method);
}

/** `--tsa-url`, for every method but sigstore: keyless signing is timestamped by its Sigstore instance's own TSA. */
function addTsaOption(cmd: Command, method: SignCommandMethod | undefined): Command {
  if (method === 'sigstore') return cmd;
  return cmd.option(
    '--tsa-url <url>',
    `RFC 3161 timestamp authority to timestamp the signature with (its HTTP endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp); a certificate signature then verifies after the certificate expires, with verify's --tsa-certificate-chain${method === undefined ? ' (key, certificate)' : ''}`,
  );
}

/**
 * The timestamp authority `--tsa-url` names, as the signing calls take it.
 *
 * @throws {UsageError} `--tsa-url` with the sigstore method, which the command offers it for when the method is an argument.
 */
export function timestampAuthorityOf(method: SignCommandMethod, opts: SignerCliOptions): { timestampAuthority?: { url: string } } {
  if (opts.tsaUrl === undefined) return {};
  if (method === 'sigstore')
    throw new UsageError(
      "--tsa-url applies to key and certificate signatures; keyless signing is timestamped by its Sigstore instance's own timestamp authority",
    );
  return { timestampAuthority: { url: opts.tsaUrl } };
}

/** `--tsa-url` as printed: without the user name and password the URL may carry; undefined without it. */
export function printableTsaUrl(opts: SignerCliOptions): string | undefined {
  if (opts.tsaUrl === undefined) return undefined;
  const parsed = new URL(opts.tsaUrl);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

function requireOption(value: string | undefined, flag: string, method: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required to sign with the ${method} method`);
  return value;
}

/** Builds the signer for `method` from parsed options. */
export async function createSigner(method: SignCommandMethod, opts: SignerCliOptions): Promise<Signer> {
  const core = await loadCore();
  const password = opts.password !== undefined ? { password: opts.password } : {};
  switch (method) {
    case 'key': {
      const privateKey = requireOption(opts.privateKey, '--private-key', method);
      return (await createKmsCliSigner({ privateKey })) ?? core.KeySigner.create({ privateKey, ...password });
    }
    case 'certificate': {
      const chain = {
        privateKey: requireOption(opts.privateKey, '--private-key', method),
        signingCertificate: requireOption(opts.signingCertificate, '--signing-certificate', method),
        certificateChain: opts.certificateChain ?? [],
      };
      return (await createKmsCliSigner(chain)) ?? core.CertificateSigner.create({ ...chain, ...password });
    }
    case 'pkcs11-key':
    case 'pkcs11-certificate':
      return createPkcs11CliSigner(method, requireOption(opts.pkcs11Uri, '--pkcs11-uri', method), opts);
    case 'sigstore':
      return createSigstoreSigner({ useAmbientCredentials: false, oauthForceOob: false, useStaging: false, ...opts });
  }
}
