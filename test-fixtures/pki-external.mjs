// Certificates for keys whose private half is elsewhere (a PKCS#11 token, a
// KMS): the CA certifies a given public key. openssl needs a CSR, so one is
// made with a throw-away key and -force_pubkey puts the real key in.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Issues a code-signing leaf certificate for `publicKeyPem` (a file) from the
 * intermediate CA made by pki.mjs's makeCertificateAuthority.
 * @returns {string} the certificate's path
 */
export function issueLeafForPublicKey(dir, ca, publicKeyPem, name) {
  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const throwaway = path.join(dir, `${name}.throwaway.key.pem`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', throwaway]);
  const csr = path.join(dir, `${name}.csr`);
  openssl(['req', '-new', '-key', throwaway, '-subj', `/CN=${name}`, '-out', csr]);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
  const cert = path.join(dir, `${name}.cert.pem`);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-force_pubkey',
    publicKeyPem,
    '-CA',
    ca.intermediateCert,
    '-CAkey',
    ca.intermediateKey,
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return cert;
}
