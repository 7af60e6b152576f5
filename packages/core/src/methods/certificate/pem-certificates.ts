/**
 * PEM certificates given as text or bytes, parsed for path validation:
 * trust anchors of the certificate method and TSA certificates. Runtime-
 * neutral (reading files stays in the Node callers).
 */
import { ModelSigningError } from '../../errors.js';
import { fromBase64 } from '../../format/base64.js';
import { parseCertificate, type PathCertificate } from './certificate-path.js';

/**
 * Every certificate of each PEM source (a source may hold several).
 *
 * @param what names the sources in errors, e.g. `The certificate chain`.
 * @throws {ModelSigningError} `BAD_KEY` for a source without a PEM certificate or with one that cannot be parsed.
 */
export function parsePemCertificates(sources: ReadonlyArray<string | Uint8Array>, what: string): PathCertificate[] {
  return sources.flatMap((source) => {
    const text = typeof source === 'string' ? source : new TextDecoder().decode(source);
    const blocks = text.match(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new ModelSigningError({ code: 'BAD_KEY', message: `${what} contains no PEM certificate` });
    return blocks.map((block) => {
      try {
        return parseCertificate(fromBase64(block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')));
      } catch (cause) {
        throw new ModelSigningError({
          code: 'BAD_KEY',
          cause,
          message: `${what} holds a certificate that cannot be parsed: ${(cause as Error).message}`,
        });
      }
    });
  });
}
