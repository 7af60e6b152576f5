// Runtime-neutral (no `node:*`). The policy document: JSON or YAML text,
// bounded, parsed by the `yaml` library and checked against the JSON Schema
// shipped beside this file. Nothing here trusts the text.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileSchema } from '../claims/predicates/predicate-type.js';
import { PolicyInvalidError, type PolicyProblem } from './errors.js';

/** The largest policy document read: 1 MiB, far beyond any real policy. */
export const DEFAULT_MAX_POLICY_BYTES = 1024 * 1024;

/** PEM text inline, or a file read by the Node loader (relative to the policy file). */
export type PemSource = { pem: string; file?: undefined } | { file: string; pem?: undefined };

/** A party that may sign: exactly one of `key`, `certificate`, `sigstore`. */
export interface AuthorityDocument {
  description?: string;
  /** An EC public key: a key file, or the public key of a PKCS#11 token or KMS key. */
  key?: PemSource;
  certificate?: {
    roots?: PemSource[];
    useSystemRoots?: boolean;
    subject?: string;
    san?: string;
    fingerprint?: string;
  };
  sigstore?: {
    identity?: string;
    identityRegExp?: string;
    issuer?: string;
    issuerRegExp?: string;
    instance?: 'production' | 'staging';
    trustConfig?: { file: string };
  };
}

/** Which models a rule covers: exactly one of `huggingface`, `path`, `url`, `oci`, with the pins of its kind. */
export interface MatchDocument {
  huggingface?: string;
  revision?: string;
  path?: string;
  url?: string;
  oci?: string;
  tag?: string;
  digest?: string;
}

/** A signed claim that must be present. */
export interface ClaimRequirementDocument {
  name?: string;
  predicateType: string;
  by: string[];
  count?: number;
  condition?: string;
}

/** One rule: what it matches, and what it requires (or that it denies). */
export interface RuleDocument {
  name: string;
  description?: string;
  match: MatchDocument;
  deny?: string;
  require?: {
    signatures: { by: string[]; count?: number };
    claims?: ClaimRequirementDocument[];
  };
}

/** A trust policy as written (docs/policy.md). */
export interface PolicyDocument {
  version: 1;
  description?: string;
  authorities: Record<string, AuthorityDocument>;
  rules: RuleDocument[];
}

/** A policy document that passed its schema, and where each of its parts is in the text. */
export interface ParsedPolicy {
  document: PolicyDocument;
  /** What the policy is called in messages (its file name). */
  name: string;
  /** Adds the line and column of a JSON path (`/rules/0/match`) to a problem. */
  locate(path: string, message: string): PolicyProblem;
}

/** Options of {@link parsePolicy}. */
export interface ParsePolicyOptions {
  /** What the policy is called in messages (its file name). Default `(unnamed)`: "The policy (unnamed) refused …". */
  name?: string;
  /** The largest document accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

let validator: Promise<ValidateFunction> | undefined;

/** The shipped schema, compiled on first use. */
function schemaValidator(): Promise<ValidateFunction> {
  validator ??= compileSchema(async () => ({ schema: (await import('./policy.schema.json', { with: { type: 'json' } })).default }), {
    verbose: true,
  });
  return validator;
}

/** JSON pointer segments (`/rules/0` → ['rules', 0]). */
function segments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

/** A JSON pointer segment, escaped. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Ajv's errors as problems people can act on: one per place, branches of "exactly one of" folded into one. */
function schemaProblems(errors: readonly ErrorObject[]): { path: string; message: string }[] {
  const problems = new Map<string, { path: string; message: string }>();
  for (const e of errors) {
    // A branch of oneOf failing ("must have required property 'pem'") is said once by the oneOf error itself.
    if (e.keyword === 'required' && /\/oneOf\/\d+\/required$/.test(e.schemaPath)) continue;
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'oneOf') {
      const branches = (e.schema as { required?: string[] }[]).map((b) => b.required?.join(' and ') ?? '?');
      const present = branches.filter((b) => b !== '?' && b.split(' and ').every((key) => isPresent(e.data, key)));
      message = `needs exactly one of ${branches.join(', ')}${present.length > 1 ? ` (has ${present.join(' and ')})` : ''}`;
    } else if (e.keyword === 'additionalProperties') {
      const property = (e.params as { additionalProperty: string }).additionalProperty;
      path = `${path}/${pointerSegment(property)}`;
      message = 'is not a known property';
    } else if (e.keyword === 'enum' || e.keyword === 'const') {
      const allowed = (e.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [
        (e.params as { allowedValue?: unknown }).allowedValue,
      ];
      message = `must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}`;
    } else if (e.keyword === 'propertyNames') {
      message = `has an invalid name '${(e.params as { propertyName: string }).propertyName}' (letters, digits, '.', '_', '-'; at most 64)`;
    }
    problems.set(`${path}\u0000${message}`, { path, message });
  }
  return [...problems.values()];
}

function isPresent(data: unknown, key: string): boolean {
  return typeof data === 'object' && data !== null && Object.prototype.hasOwnProperty.call(data, key);
}

/**
 * Parses a policy document (JSON or YAML: the `yaml` library reads both, as
 * YAML 1.2 core, which every JSON document is) and checks it against the
 * shipped JSON Schema. Duplicate keys are refused, aliases bounded, and the
 * text may be at most `maxBytes` (1 MiB).
 *
 * Only the shape is checked here; names, patterns and conditions are
 * checked when the policy is compiled ({@link compilePolicy}).
 *
 * @throws {PolicyInvalidError} `POLICY_INVALID` listing every problem with its JSON path (and line).
 */
export async function parsePolicy(source: string | Uint8Array, options: ParsePolicyOptions = {}): Promise<ParsedPolicy> {
  const name = options.name ?? '(unnamed)';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_POLICY_BYTES;
  const size = typeof source === 'string' ? new TextEncoder().encode(source).length : source.length;
  if (size > maxBytes) {
    throw new PolicyInvalidError(name, [{ path: '', message: `is ${size} bytes; a policy may be at most ${maxBytes} bytes` }]);
  }
  let text: string;
  try {
    text = typeof source === 'string' ? source : UTF8.decode(source);
  } catch {
    throw new PolicyInvalidError(name, [{ path: '', message: 'is not UTF-8 text' }]);
  }
  const { LineCounter, parseDocument } = await import('yaml'); // on first use: YAML is 70 modules
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false });
  const syntax = [...doc.errors];
  if (syntax.length > 0) {
    throw new PolicyInvalidError(
      name,
      syntax.map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        return {
          path: '',
          message: `is not valid JSON or YAML: ${e.message.split('\n')[0]}`,
          ...(at ? { line: at.line, column: at.col } : {}),
        };
      }),
    );
  }
  let json: unknown;
  try {
    json = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new PolicyInvalidError(name, [{ path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  const locate = (path: string, message: string): PolicyProblem => {
    const node = doc.getIn(segments(path), true) as { range?: [number, number, number] } | undefined;
    const at = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    return { path, message, ...(at ? { line: at.line, column: at.col } : {}) };
  };
  const validate = await schemaValidator();
  if (!validate(json)) {
    throw new PolicyInvalidError(
      name,
      schemaProblems(validate.errors ?? []).map((p) => locate(p.path, p.message)),
    );
  }
  return { document: json as PolicyDocument, name, locate };
}
