// A throw-away SoftHSM2 token for the PKCS#11 tests: its own config and token
// directory under `dir` (SOFTHSM2_CONF), keys generated on the token with
// OpenSC's pkcs11-tool. Installed by scripts/setup-hsm-kms.sh; tests fail,
// not skip, when it is missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];
const KEY_TYPES = { 'P-256': 'EC:prime256v1', 'P-384': 'EC:secp384r1', 'P-521': 'EC:secp521r1', RSA: 'rsa:2048' };

function derLength(n) {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}
function der(tag, body) {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}
/** CKA_EC_POINT is a DER OCTET STRING around the uncompressed point. */
function unwrapOctetString(bytes) {
  return bytes[1] & 0x80 ? bytes.subarray(2 + (bytes[1] & 0x7f)) : bytes.subarray(2);
}
/** SubjectPublicKeyInfo { { id-ecPublicKey, curve }, BIT STRING point }. */
function subjectPublicKeyInfo(curveOid, point) {
  const ecPublicKey = Buffer.from('06072a8648ce3d0201', 'hex');
  return der(0x30, Buffer.concat([der(0x30, Buffer.concat([ecPublicKey, curveOid])), der(0x03, Buffer.concat([Buffer.from([0]), point]))]));
}

function run(file, args, env) {
  return execFileSync(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Initialises a token labelled `label` with user PIN `pin` in `dir` and sets
 * process.env.SOFTHSM2_CONF so this process and the CLIs it starts see it.
 */
export function createSoftHsmToken(dir, { label = 'oms-test', pin = '1234' } = {}) {
  const module = MODULE_CANDIDATES.find((m) => fs.existsSync(m));
  for (const [tool, found] of [
    ['softhsm2-util', module],
    ['pkcs11-tool', true],
  ]) {
    try {
      if (!found) throw new Error('libsofthsm2.so not found');
      run(tool, ['--help']);
    } catch (cause) {
      if (cause.code === 'ENOENT' || !found) {
        throw new Error(
          `SoftHSM2 and OpenSC are needed for the PKCS#11 tests (${tool}); run scripts/setup-hsm-kms.sh (apt-get install softhsm2 opensc)`,
          { cause },
        );
      }
    }
  }
  const tokens = path.join(dir, 'tokens');
  fs.mkdirSync(tokens, { recursive: true });
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '87654321']);
  const tool = (args) => run('pkcs11-tool', ['--module', module, '--token-label', label, ...args]);
  return {
    module,
    label,
    pin,
    /** Generates a key pair on the token (P-256, P-384, P-521 or RSA), with CKA_ID `id` (hex) and CKA_LABEL `object`. */
    generateKey(type, id, object) {
      tool(['--login', '--pin', pin, '--keypairgen', '--key-type', KEY_TYPES[type], '--id', id, '--label', object]);
    },
    /**
     * Exports the public key with CKA_ID `id` as a PEM file, as a verifier
     * would get it: from the EC_PARAMS and EC_POINT pkcs11-tool lists (its
     * --read-object cannot export P-384 and P-521 keys in OpenSC 0.23).
     */
    exportPublicKey(id, file) {
      const listing = tool(['--list-objects', '--type', 'pubkey']).toString();
      const object = listing.split(/^(?=Public Key Object)/m).find((o) => new RegExp(`^\\s*ID:\\s*${id}\\s*$`, 'm').test(o));
      const point = /EC_POINT:\s*([0-9a-f]+)/.exec(object ?? '')?.[1];
      const params = /EC_PARAMS:\s*([0-9a-f]+)/.exec(object ?? '')?.[1];
      if (!point || !params) throw new Error(`no EC public key with id ${id} on the token:\n${listing}`);
      const der = path.join(dir, `pub-${id}.der`);
      fs.writeFileSync(der, subjectPublicKeyInfo(Buffer.from(params, 'hex'), unwrapOctetString(Buffer.from(point, 'hex'))));
      run('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', der, '-out', file]);
      return file;
    },
    /** Stores a PEM certificate on the token as a certificate object with `id` and `object`. */
    writeCertificate(pemFile, id, object) {
      const der = path.join(dir, `cert-${id}.der`);
      run('openssl', ['x509', '-in', pemFile, '-outform', 'DER', '-out', der]);
      tool(['--login', '--pin', pin, '--write-object', der, '--type', 'cert', '--id', id, '--label', object]);
    },
  };
}
