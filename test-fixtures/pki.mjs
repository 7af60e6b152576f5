// Makes a throw-away PKI with openssl for tests: a root CA, an intermediate
// CA and leaf certificates for EC keys. Everything is generated per test run
// in a temporary directory; nothing here is a secret or is committed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CURVES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function ecKey(dir, name, curve) {
  const file = path.join(dir, `${name}.key.pem`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${CURVES[curve]}`, '-out', file], dir);
  return file;
}

function writeExt(dir, name, lines) {
  const file = path.join(dir, `${name}.ext`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Creates root → intermediate CAs in `dir`.
 * @returns {{ rootCert: string, rootKey: string, intermediateCert: string, intermediateKey: string }} file paths
 */
export function makeCertificateAuthority(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const rootKey = ecKey(dir, 'root', 'P-384');
  const rootCert = path.join(dir, 'root.cert.pem');
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      rootKey,
      '-subj',
      '/CN=Test Root CA',
      '-days',
      '3650',
      '-sha384',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      rootCert,
    ],
    dir,
  );
  const intermediateKey = ecKey(dir, 'intermediate', 'P-384');
  const csr = path.join(dir, 'intermediate.csr');
  openssl(['req', '-new', '-key', intermediateKey, '-subj', '/CN=Test Intermediate CA', '-out', csr], dir);
  const intermediateCert = path.join(dir, 'intermediate.cert.pem');
  const ext = writeExt(dir, 'intermediate', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      rootCert,
      '-CAkey',
      rootKey,
      '-CAcreateserial',
      '-days',
      '3650',
      '-sha384',
      '-extfile',
      ext,
      '-out',
      intermediateCert,
    ],
    dir,
  );
  return { rootCert, rootKey, intermediateCert, intermediateKey };
}

/** OpenSSL's ASN.1 time for `openssl ca -startdate/-enddate`: YYYYMMDDHHMMSSZ. */
function asn1Time(date) {
  return date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Signs `csr` with the intermediate CA for exactly [notBefore, notAfter]
 * (`openssl x509 -req` of OpenSSL 3.0 only counts days from now), through a
 * throw-away `openssl ca` database in `dir`.
 */
function signForWindow(dir, ca, name, csr, ext, cert, { notBefore, notAfter }) {
  const db = path.join(dir, `${name}.ca`);
  fs.mkdirSync(db, { recursive: true });
  fs.writeFileSync(path.join(db, 'index.txt'), '');
  fs.writeFileSync(path.join(db, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  const config = path.join(db, 'ca.cnf');
  fs.writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${db}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir',
      'serial = $dir/serial',
      'policy = any',
      'default_md = sha256',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
    ].join('\n') + '\n',
  );
  openssl(
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      config,
      '-cert',
      ca.intermediateCert,
      '-keyfile',
      ca.intermediateKey,
      '-in',
      csr,
      '-out',
      cert,
      '-extfile',
      ext,
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
    ],
    dir,
  );
}

/**
 * Issues a leaf certificate for a fresh EC key from the intermediate CA,
 * valid for `days` from now, or exactly for `validity` (e.g. one that
 * expires in a few seconds, or has expired).
 * @param {string} dir
 * @param {{ intermediateCert: string, intermediateKey: string }} ca
 * @param {{ name: string, curve?: 'P-256'|'P-384'|'P-521', usage?: 'codeSigning'|'none', days?: number, validity?: { notBefore: Date, notAfter: Date } }} options
 * @returns {{ key: string, cert: string }} file paths
 */
export function issueLeaf(dir, ca, { name, curve = 'P-256', usage = 'codeSigning', days = 365, validity }) {
  const key = ecKey(dir, name, curve);
  const csr = path.join(dir, `${name}.csr`);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr], dir);
  const cert = path.join(dir, `${name}.cert.pem`);
  const ext = writeExt(
    dir,
    name,
    usage === 'codeSigning'
      ? ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning']
      : ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyEncipherment'],
  );
  if (validity) {
    signForWindow(dir, ca, name, csr, ext, cert, validity);
    return { key, cert };
  }
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.intermediateCert,
      '-CAkey',
      ca.intermediateKey,
      '-CAcreateserial',
      '-days',
      String(days),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    dir,
  );
  return { key, cert };
}
