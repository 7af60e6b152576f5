// WebSigstoreVerifier must run outside Node: its module graph imports no
// Node built-in and uses no Node global; its shipped production root is the
// one the Node verifier uses offline; bad input and bad options get codes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSigstoreVerifier } from '../dist/browser.js';
import { parseBundle } from '../dist/internal.js';
import { PRODUCTION_TRUSTED_ROOT } from '../dist/methods/sigstore/web/production-root.js';
import { HISTORICAL } from './helpers.js';
import { verdictOf, type BundleJson } from './sigstore-web/cases.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const IDENTITY = 'stefanb@us.ibm.com';
const ISSUER = 'https://sigstore.verify.ibm.com/oauth2';
const V110 = path.join(HISTORICAL, 'v1.1.0-sigstore/model.sig');

/** Every module reachable from `entry` through static and dynamic imports, and the packages they import. */
async function moduleGraph(entry: string): Promise<{ files: Map<string, string>; packages: Set<string> }> {
  const files = new Map<string, string>();
  const packages = new Set<string>();
  const queue = [entry];
  for (let file = queue.shift(); file; file = queue.shift()) {
    if (files.has(file)) continue;
    const text = await fs.readFile(file, 'utf8');
    files.set(file, text);
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

describe('WebSigstoreVerifier outside Node', () => {
  it('imports only PKI.js and asn1js and no Node built-in, and uses no Node global', async () => {
    const { files, packages } = await moduleGraph(path.join(DIST, 'methods/sigstore/web/verifier.js'));
    expect([...packages].sort()).toEqual(['asn1js', 'pkijs']);
    expect(files.size).toBeGreaterThan(5);
    for (const [file, text] of files) {
      expect({ file, node: /\bBuffer\s*[.(]|\bprocess\s*\.|\brequire\s*\(/.test(text) }).toEqual({ file, node: false });
    }
  });

  it('ships the production trusted root that the Node verifier loads from @sigstore/tuf', async () => {
    const seeds = JSON.parse(await fs.readFile(new URL(import.meta.resolve('@sigstore/tuf/seeds.json')), 'utf8')) as Record<
      string,
      { targets: Record<string, string> }
    >;
    const nodeRoot = JSON.parse(
      Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64').toString('utf8'),
    );
    expect(PRODUCTION_TRUSTED_ROOT).toEqual(nodeRoot);
  });
});

describe('WebSigstoreVerifier on bad options and input', () => {
  it('needs exactly one identity form and an issuer, and a valid regular expression', async () => {
    await expect(WebSigstoreVerifier.create({ identityProvider: ISSUER })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(WebSigstoreVerifier.create({ identity: IDENTITY, identityRegExp: '.*', identityProvider: ISSUER })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(WebSigstoreVerifier.create({ identity: IDENTITY, identityProvider: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(WebSigstoreVerifier.create({ identityRegExp: '(', identityProvider: ISSUER })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it.each([
    ['text that is not JSON', '{'],
    ['a document of another media type', { mediaType: 'application/json' }],
    [
      'a root whose log key is not base64',
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [{ publicKey: { rawBytes: '!!' }, logId: { keyId: 'AA==' } }],
      },
    ],
    [
      'a root whose CA certificate is not X.509',
      {
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: 'AAAA' }] } }],
      },
    ],
  ])('refuses a trusted root that is %s with INVALID_ARGUMENT', async (_, trustedRoot) => {
    await expect(WebSigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER, trustedRoot })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('refuses a key bundle with WRONG_METHOD', async () => {
    const verifier = await WebSigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER });
    const bundle = parseBundle(await fs.readFile(path.join(HISTORICAL, 'v1.1.0-elliptic-key/model.sig')));
    await expect(verifier.verify(bundle)).rejects.toMatchObject({ code: 'WRONG_METHOD' });
  });

  const tamper = async (change: (json: BundleJson) => void) => {
    const json = JSON.parse(await fs.readFile(V110, 'utf8'));
    change(json);
    return JSON.stringify(json);
  };

  it.each([
    [
      'tlogEntries is not a list',
      (j: BundleJson): void => {
        j['verificationMaterial'].tlogEntries = {};
      },
      'BAD_BUNDLE',
    ],
    [
      'a log entry body that is not base64',
      (j: BundleJson): void => {
        j['verificationMaterial'].tlogEntries[0].canonicalizedBody = '!!';
      },
      'BAD_BUNDLE',
    ],
    [
      'a log index that is not a number',
      (j: BundleJson): void => {
        j['verificationMaterial'].tlogEntries[0].logIndex = 'x';
      },
      'BAD_BUNDLE',
    ],
    [
      'a timestamp that is not base64',
      (j: BundleJson): void => {
        j['verificationMaterial'].timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = '!';
      },
      'BAD_BUNDLE',
    ],
    [
      'a timestamp that is not a TimeStampResp',
      (j: BundleJson): void => {
        j['verificationMaterial'].timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = 'AAAA';
      },
      'CERT_CHAIN_INVALID',
    ],
    [
      'no log entry',
      (j: BundleJson): void => {
        j['verificationMaterial'].tlogEntries = [];
      },
      'CERT_CHAIN_INVALID',
    ],
    [
      'a log entry of another kind',
      (j: BundleJson): void => {
        j['verificationMaterial'].tlogEntries[0].kindVersion = { kind: 'intoto', version: '0.0.2' };
      },
      'SIGNATURE_INVALID',
    ],
  ] as const)('refuses a bundle with %s', async (_, change, code) => {
    const verifier = await WebSigstoreVerifier.create({ identity: IDENTITY, identityProvider: ISSUER });
    expect(await verdictOf(verifier, await tamper(change))).toMatchObject({ ok: false, code });
  });
});
