import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ModelSigningError } from '../dist/index.js';
import { toBase64 } from '../dist/format/base64.js';
import { parseBundle } from '../dist/format/bundle.js';
import { preAuthEncoding } from '../dist/format/dsse.js';
import { manifestToPayload, parseStatement, PAYLOAD_TYPE } from '../dist/format/statement.js';

// A bundle's payload is cut out of its bytes, and a statement's resources
// parsed a slice at a time (format/json-spans.ts), never the whole text at
// once. Whatever the layout, the result must be what parsing the whole
// document says: the same values where JSON.parse reads them (duplicate
// keys: the last), and a refusal wherever it refuses.

const utf8 = new TextEncoder();
const bytes = (text: string) => utf8.encode(text);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const STATEMENT = manifestToPayload({
  modelName: 'm',
  serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
  resources: Array.from({ length: 5000 }, (_, i) => ({ name: `d/f${i}`, algorithm: 'sha256', digest: sha256(String(i)) })),
});
const PAYLOAD = toBase64(STATEMENT);
const MATERIAL = '"verificationMaterial":{"publicKey":{"hint":"h"}}';
const SIG = '"signatures":[{"sig":"MEUCIQ=="}]';

function bundle(envelope: string, extra = ''): string {
  return `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",${MATERIAL},"dsseEnvelope":${envelope}${extra}}`;
}

/** What the bundle parses to, from its bytes (cut) and from its text (parsed whole), or the code it is refused with. */
function bothWays(text: string): { fromBytes: unknown; fromText: unknown } {
  const run = (input: string | Uint8Array) => {
    try {
      const parsed = parseBundle(input);
      return { payload: Buffer.from(parsed.payload).toString('hex'), type: parsed.payloadType, json: JSON.stringify(parsed.json) };
    } catch (err) {
      return { code: (err as ModelSigningError).code };
    }
  };
  return { fromBytes: run(bytes(text)), fromText: run(text) };
}

describe("a bundle's payload cut out of its bytes", () => {
  const cases: Record<string, string> = {
    plain: bundle(`{"payload":"${PAYLOAD}","payloadType":"${PAYLOAD_TYPE}",${SIG}}`),
    'payload listed twice (the last counts)': bundle(`{"payload":"${PAYLOAD}","payload":"e30=","payloadType":"x",${SIG}}`),
    'payload listed twice, once escaped': bundle(`{"payload":"${PAYLOAD}","payl\\u006fad":"e30=","payloadType":"x",${SIG}}`),
    'dsseEnvelope listed twice': bundle(
      `{"payload":"${PAYLOAD}","payloadType":"x",${SIG}}`,
      `,"dsseEnvelope":{"payload":"e30=","payloadType":"y",${SIG}}`,
    ),
    'whitespace and escapes inside the base64': bundle(
      `{"payload":"${PAYLOAD.slice(0, 8)}\\n ${PAYLOAD.slice(8)}","payloadType":"x",${SIG}}`,
    ),
    'padding left out': bundle(`{"payload":"e30","payloadType":"x",${SIG}}`),
    'bits past the last byte set': bundle(`{"payload":"e31=","payloadType":"x",${SIG}}`),
    'not base64': bundle(`{"payload":"e3!=","payloadType":"x",${SIG}}`),
    'a byte-order mark after the payload': bundle(`{"payload":"${PAYLOAD}"\ufeff,"payloadType":"x",${SIG}}`),
    'a payload that is not a string': bundle(`{"payload":123,"payloadType":"x",${SIG}}`),
    'cut short': bundle(`{"payload":"${PAYLOAD}","payloadType":"x",${SIG}}`).slice(0, -1),
    'trailing garbage': `${bundle(`{"payload":"e30=","payloadType":"x",${SIG}}`)}x`,
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`reads as the whole text does: ${name}`, () => {
      const { fromBytes, fromText } = bothWays(text);
      expect(fromBytes).toEqual(fromText);
    });
  }

  it('reads bytes that open with a byte-order mark as UTF-8 does, as before', () => {
    const parsed = parseBundle(bytes(`\ufeff${bundle(`{"payload":"e30=","payloadType":"x",${SIG}}`)}`));
    expect(Buffer.from(parsed.payload).toString()).toBe('{}');
  });

  it('decodes the payload into its pre-authentication encoding, and writes the base64 again only when asked', () => {
    const parsed = parseBundle(bytes(cases['plain']));
    expect(Buffer.from(parsed.payload).equals(Buffer.from(STATEMENT))).toBe(true);
    const pae = preAuthEncoding(PAYLOAD_TYPE, parsed.payload);
    expect(pae.buffer).toBe(parsed.payload.buffer);
    expect(Buffer.from(pae).toString()).toBe(
      `DSSEv1 ${PAYLOAD_TYPE.length} ${PAYLOAD_TYPE} ${STATEMENT.length} ${Buffer.from(STATEMENT).toString()}`,
    );
    expect(parsed.json.dsseEnvelope.payload).toBe(PAYLOAD);
  });
});

/** The statement as parsed, or the code and message it is refused with. */
function statementOf(text: string): unknown {
  try {
    const s = parseStatement(bytes(text));
    return { ...s, resources: s.resources.map((r) => `${r.name}=${r.digest}`) };
  } catch (err) {
    return { code: (err as ModelSigningError).code, message: (err as ModelSigningError).message };
  }
}

describe("a statement's resources parsed a slice at a time", () => {
  const statement = JSON.parse(Buffer.from(STATEMENT).toString()) as { predicate: { resources: { name: string; digest: string }[] } };
  // Compact, so each change below is a plain replacement.
  const text = JSON.stringify(statement);
  const listed = JSON.stringify(statement.predicate.resources);

  it('lists every resource, in order, across slices', () => {
    const parsed = parseStatement(STATEMENT);
    expect(parsed.resources.map((r) => r.name)).toEqual(statement.predicate.resources.map((r) => r.name));
    expect(parsed.resources.every((r) => Object.isFrozen(r))).toBe(true);
  });

  const refused: Record<string, [string, string]> = {
    'a trailing comma in the list': [listed, `${listed.slice(0, -1)},]`],
    'an empty element': [listed, listed.replace('},{', '},,{')],
    'a resource that is not an object, past the first slice': [listed, listed.replace(/\{[^}]*"d\/f4500"[^}]*\}/, '7')],
    'a name listed twice in two slices': [listed, listed.replace('"d/f4999"', '"d/f0"')],
    'a name that leaves the model': [listed, listed.replace('"d/f4321"', '"../f4321"')],
    'a digest that is not hex': [listed, listed.replace(sha256('4100'), 'zz')],
    'a byte-order mark inside the list': [listed, listed.replace('},{', '},\ufeff{')],
  };
  for (const [name, [from, to]] of Object.entries(refused)) {
    it(`refuses as the whole parse does: ${name}`, () => {
      const changed = text.replace(from, to);
      expect(changed).not.toBe(text);
      const outcome = statementOf(changed) as { code?: string };
      expect(outcome.code).toMatch(/^(BAD_PAYLOAD|PATH_ESCAPE)$/);
    });
  }

  it('reads the last of two lists of resources, as JSON.parse does', () => {
    const twice = text.replace(`"resources":[`, `"resources":[7],"resources":[`);
    expect(twice).not.toBe(text);
    expect(statementOf(twice)).toEqual(statementOf(text));
  });

  it('checks each resource as the whole parse does, naming the same resource', () => {
    expect(statementOf(text.replace(sha256('4200'), 'abc'))).toEqual({
      code: 'BAD_PAYLOAD',
      message: "Invalid signed statement: resource 'd/f4200' digest is not a hex digest",
    });
  });
});
