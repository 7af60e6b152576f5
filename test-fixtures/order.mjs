// The OMS resource order (spec §5.2.1), checked independently of the library:
// every bundle our tests write must list its resources by code point of their
// names (compared here as UTF-8 bytes), and its subject digest must be the
// SHA-256 of their digests in that order. The Go port refuses any other order.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Throws unless the bundle (JSON text, parsed object, or a path to a signature
 * file) lists its resources in code-point order with a matching subject digest.
 * Returns the resource names, in order.
 */
export function assertCodePointOrder(bundle) {
  const json = typeof bundle === 'string' ? JSON.parse(bundle.trimStart().startsWith('{') ? bundle : readFileSync(bundle, 'utf8')) : bundle;
  const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
  const resources = statement.predicate.resources;
  const names = resources.map((r) => r.name);
  for (let i = 1; i < names.length; i++) {
    if (Buffer.compare(Buffer.from(names[i - 1], 'utf8'), Buffer.from(names[i], 'utf8')) >= 0) {
      throw new Error(`resources are not in code-point order: '${names[i - 1]}' is listed before '${names[i]}'`);
    }
  }
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  const expected = root.digest('hex');
  if (statement.subject[0].digest.sha256 !== expected) {
    throw new Error(`the subject digest ${statement.subject[0].digest.sha256} is not the root over the listed order (${expected})`);
  }
  return names;
}
