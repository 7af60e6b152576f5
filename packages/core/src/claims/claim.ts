// Runtime-neutral (no `node:*`): one line of a claims file, parsed but not
// trusted: a Sigstore bundle over an in-toto Statement v1 about the model.
import { ModelSigningError } from '../errors.js';
import { parseBundle, type ParsedBundle } from '../format/bundle.js';
import { PAYLOAD_TYPE, STATEMENT_TYPE } from '../format/statement.js';
import type { ClaimLine, ClaimsWarning } from './lines.js';

/** A statement subject: a name and digests by algorithm (`sha256` for a model's root digest). */
export interface ClaimSubject {
  name?: string;
  digest: Record<string, string>;
}

/** The in-toto Statement v1 a claim signs. */
export interface ClaimStatement {
  predicateType: string;
  subject: ClaimSubject[];
  /** The predicate as JSON (an object; absent in a statement without one). */
  predicate: unknown;
}

/**
 * A line of a claims file, parsed: nothing in it is trusted until a
 * verifier accepts its signature (see `verifyClaims`).
 */
export interface Claim {
  /** 1-based line number in the claims file. */
  line: number;
  bundle: ParsedBundle;
  statement: ClaimStatement;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badStatement(message: string): ModelSigningError {
  return new ModelSigningError({ code: 'BAD_PAYLOAD', message: `Invalid claim statement: ${message}` });
}

/**
 * Parses a DSSE payload as an in-toto Statement v1 with any predicate.
 *
 * @throws {ModelSigningError} `BAD_PAYLOAD`.
 */
export function parseClaimStatement(payload: Uint8Array): ClaimStatement {
  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(payload));
  } catch {
    throw badStatement('the payload is not UTF-8 JSON');
  }
  if (!isRecord(json)) throw badStatement('the payload is not a JSON object');
  if (json['_type'] !== STATEMENT_TYPE) throw badStatement(`_type is not '${STATEMENT_TYPE}'`);
  const predicateType = json['predicateType'];
  if (typeof predicateType !== 'string' || predicateType === '') throw badStatement('predicateType is missing');
  const subjects = json['subject'];
  if (!Array.isArray(subjects)) throw badStatement('subject must be a list');
  const subject = subjects.map((s, i): ClaimSubject => {
    if (!isRecord(s) || !isRecord(s['digest'])) throw badStatement(`subject ${i} has no digest`);
    const digest: Record<string, string> = {};
    for (const [algorithm, value] of Object.entries(s['digest'])) {
      if (typeof value !== 'string') throw badStatement(`subject ${i} digest '${algorithm}' is not a string`);
      digest[algorithm] = value;
    }
    return typeof s['name'] === 'string' ? { name: s['name'], digest } : { digest };
  });
  const predicate = json['predicate'];
  if (predicate !== undefined && !isRecord(predicate)) throw badStatement('predicate must be a JSON object');
  return { predicateType, subject, predicate };
}

/** The warning for a line that cannot be a claim, naming the line. */
function skipped(line: ClaimLine, code: ClaimsWarning['code'], why: string): ClaimsWarning {
  return { code, line: line.line, message: `line ${line.line} ${why}; skipped` };
}

/**
 * Parses one line of a claims file into a {@link Claim}, or says why it is
 * not one: not JSON, cut short (a last line without newline), not a bundle,
 * or a bundle over something other than an in-toto statement. No signature
 * is checked here.
 */
export function parseClaimLine(line: ClaimLine): Claim | ClaimsWarning {
  let bundle: ParsedBundle;
  try {
    // The splitter already bounded the line; no second limit here.
    bundle = parseBundle(line.bytes, { maxBundleBytes: Math.max(line.bytes.length, 1) });
  } catch (err) {
    if (!(err instanceof ModelSigningError)) throw err;
    const notJson = err.cause instanceof SyntaxError || err.cause instanceof TypeError;
    if (notJson && !line.terminated) {
      return skipped(line, 'CLAIM_TRUNCATED', 'is cut short (the file does not end with a newline and the line is not complete JSON)');
    }
    if (notJson) return skipped(line, 'CLAIM_NOT_JSON', 'is not JSON');
    return skipped(line, 'CLAIM_NOT_BUNDLE', `is not a Sigstore bundle (${err.message})`);
  }
  if (bundle.payloadType !== PAYLOAD_TYPE) {
    return skipped(line, 'CLAIM_NOT_STATEMENT', `signs a '${bundle.payloadType}' payload, not an in-toto statement`);
  }
  try {
    return { line: line.line, bundle, statement: parseClaimStatement(bundle.payload) };
  } catch (err) {
    if (!(err instanceof ModelSigningError)) throw err;
    return skipped(line, 'CLAIM_NOT_STATEMENT', `is not an in-toto Statement v1 (${err.message})`);
  }
}

/** Whether a value is a {@link ClaimsWarning} rather than a {@link Claim}. */
export function isClaimsWarning(value: Claim | ClaimsWarning): value is ClaimsWarning {
  return 'code' in value;
}

/**
 * Why a claim is not about the model whose root digest is one of
 * `rootDigests` (hex), or undefined when it is: a claim has exactly one
 * subject, whose `sha256` digest is the model's root digest. The subject
 * name is informational, as in OMS signatures, and not compared.
 */
export function subjectMismatch(claim: Claim, rootDigests: readonly string[]): string | undefined {
  const subjects = claim.statement.subject;
  if (subjects.length !== 1) return `line ${claim.line} has ${subjects.length} subjects; a claim about a model has exactly one`;
  const digest = subjects[0].digest['sha256'];
  if (digest === undefined) return `line ${claim.line} has no sha256 subject digest`;
  if (rootDigests.some((root) => root.toLowerCase() === digest.toLowerCase())) return undefined;
  const shown = digest.length > 80 ? `${digest.slice(0, 80)}…` : digest;
  return `line ${claim.line} is about sha256:${shown}, not this model (sha256:${rootDigests[0] ?? '?'})`;
}
