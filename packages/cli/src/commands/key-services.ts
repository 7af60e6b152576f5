import type { Command } from 'commander';
import type { Signer } from '@model-signing/core';
import { loadCore, loadCoreInternals } from '../load-core.js';

/** Signing methods whose private key stays on a PKCS#11 token (names as in the reference). */
export const PKCS11_METHODS = ['pkcs11-key', 'pkcs11-certificate'] as const;
export type Pkcs11Method = (typeof PKCS11_METHODS)[number];

/** Options of the PKCS#11 methods. */
export interface Pkcs11CliOptions {
  pkcs11Uri?: string;
  modulePath?: string;
}

const repeatable = (value: string, previous: string[]) => [...previous, value];

/** Adds `--pkcs11-uri`, `--module-path` and, for pkcs11-certificate, the certificate options. */
export function addPkcs11Options(cmd: Command, method: Pkcs11Method): Command {
  cmd.requiredOption(
    '--pkcs11-uri <uri>',
    "RFC 7512 URI of the private key, e.g. 'pkcs11:token=t;object=key?pin-source=/path/pin&module-path=/usr/lib/softhsm/libsofthsm2.so'",
  );
  cmd.option(
    '--module-path <path>',
    "PKCS#11 module (.so), or a directory to search for the URI's module-name; used when the URI has no module-path",
  );
  if (method === 'pkcs11-certificate') {
    cmd.option(
      '--signing-certificate <path>',
      "PEM signing (leaf) certificate of the key (default: the certificate on the token with the key's id or label)",
    );
    cmd.option('--certificate-chain <path>', 'PEM intermediate certificates to include; repeatable, in order', repeatable, []);
  }
  return cmd;
}

/** Builds a PKCS#11 signer for the key at `uri` from parsed options. */
export async function createPkcs11CliSigner(
  method: Pkcs11Method,
  uri: string,
  opts: Pkcs11CliOptions & { signingCertificate?: string; certificateChain?: string[] },
): Promise<Signer> {
  const core = await loadCore();
  return core.createPkcs11Signer({
    uri,
    ...(opts.modulePath !== undefined ? { modulePath: opts.modulePath } : {}),
    ...(method === 'pkcs11-certificate'
      ? { signingCertificate: opts.signingCertificate ?? { fromToken: true as const }, certificateChain: opts.certificateChain ?? [] }
      : {}),
  });
}

/**
 * A `kms://` key given as `--private-key`: a KMS signer for the key or
 * certificate method; undefined for key files. Region, endpoint and
 * credentials come from the usual AWS configuration (AWS_REGION,
 * AWS_ENDPOINT_URL_KMS, AWS_PROFILE, …).
 */
export async function createKmsCliSigner(opts: {
  privateKey: string;
  signingCertificate?: string;
  certificateChain?: string[];
}): Promise<Signer | undefined> {
  const core = await loadCore();
  if (!(await loadCoreInternals()).isKmsUri(opts.privateKey)) return undefined;
  return core.createKmsSigner({
    uri: opts.privateKey,
    ...(opts.signingCertificate !== undefined
      ? { signingCertificate: opts.signingCertificate, certificateChain: opts.certificateChain ?? [] }
      : {}),
  });
}
