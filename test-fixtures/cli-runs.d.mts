/** What a finished CLI process printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}
/** Checks that a CLI run exited 0; `what` and its stdout and stderr make the message when it did not. Returns the run. */
export function ok<R extends CliRun>(result: R, what: string): R;
/** `sign|attest certificate`'s signer: the private key file, its certificate, and the chain up to (not including) the root. */
export function certificateSignerFlags(leaf: { key: string; cert: string }, chain: string): string[];
/** `sign pkcs11-certificate`'s signer: the token key's URI, its certificate, and the chain up to the root. */
export function pkcs11CertificateFlags(uri: string, certificate: string, chain: string): string[];
