// Runtime-neutral (no `node:*`). What every predicate type provides, and the
// one JSON Schema validator they share (Ajv, loaded on first use so that
// reading claims never loads it).
import type { AnySchema, ErrorObject, ValidateFunction } from 'ajv';
import { ModelSigningError } from '../../errors.js';

/**
 * A kind of claim: its in-toto predicate type URI, how a predicate is checked
 * before it is signed, and how it is shown to a person. A new claim type is
 * one file exporting one of these (`predicates/index.ts` lists them).
 */
export interface PredicateType {
  /** The in-toto `predicateType` URI. */
  readonly uri: string;
  /** A short name for people: `model card`, `test result`, `provenance`. */
  readonly title: string;
  /**
   * Checks a predicate against its type's schema.
   *
   * @throws {ModelSigningError} `PREDICATE_INVALID` naming what is wrong.
   */
  validate(predicate: unknown): Promise<void>;
  /** A few lines that show the predicate to a person (untrusted text: the caller escapes it for a terminal). */
  describe(predicate: unknown): string[];
}

/** The schemas a validator needs: the one to check against, and those it refers to by `$id`. */
export interface SchemaSet {
  schema: AnySchema;
  references?: AnySchema[];
}

/** How many schema errors a message lists. */
const ERRORS_SHOWN = 5;

function describeErrors(errors: readonly ErrorObject[]): string {
  // Ajv repeats a failure once per branch of a oneOf/anyOf; keep each place and message once.
  const lines = [
    ...new Set(errors.map((e) => `${e.instancePath === '' ? '(the predicate)' : e.instancePath} ${e.message ?? 'is invalid'}`)),
  ];
  const shown = lines.slice(0, ERRORS_SHOWN);
  if (lines.length > ERRORS_SHOWN) shown.push(`and ${lines.length - ERRORS_SHOWN} more`);
  return shown.join('; ');
}

/**
 * A `validate` for {@link PredicateType} from a JSON Schema (draft-07): the
 * schemas are loaded and compiled on the first call and kept. Formats are
 * checked (`date-time`, `uri`, …; `iri-reference` and `idn-email` as their
 * URI and e-mail forms with non-ASCII characters allowed).
 */
export function schemaValidator(title: string, load: () => Promise<SchemaSet>): (predicate: unknown) => Promise<void> {
  let compiled: Promise<ValidateFunction> | undefined;
  return async (predicate) => {
    compiled ??= compile(load);
    const validate = await compiled;
    if (!validate(predicate)) {
      throw new ModelSigningError({
        code: 'PREDICATE_INVALID',
        message: `The ${title} does not follow its schema: ${describeErrors(validate.errors ?? [])}`,
      });
    }
  };
}

async function compile(load: () => Promise<SchemaSet>): Promise<ValidateFunction> {
  const [{ default: ajvModule }, { default: formats }, { schema, references }] = await Promise.all([
    import('ajv'),
    import('ajv-formats'),
    load(),
  ]);
  // Ajv is CommonJS: Node and bundlers agree only on the default export (module.exports), which carries the class as `Ajv`.
  const ajv = new ajvModule.Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: its plugin is the module itself, which also carries itself as `default`.
  formats.default(ajv, ['date-time', 'uri', 'uri-reference', 'email']);
  const uriReference = formats.default.get('uri-reference') as RegExp;
  const email = formats.default.get('email') as RegExp;
  // RFC 3987: an IRI is a URI that may hold non-ASCII characters, which map to percent-encoded UTF-8.
  ajv.addFormat('iri-reference', (value) => {
    try {
      return uriReference.test(value.replace(/[\u{80}-\u{10ffff}]+/gu, (c) => encodeURIComponent(c)));
    } catch {
      return false; // a lone surrogate
    }
  });
  // RFC 6531: an internationalized address is an e-mail address whose characters may be non-ASCII.
  ajv.addFormat('idn-email', (value) => email.test(value.replace(/[\u{80}-\u{10ffff}]/gu, 'x')));
  for (const reference of references ?? []) ajv.addSchema(reference);
  return ajv.compile(schema);
}

/** Whether a value is a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field of an untrusted object, or undefined. */
export function stringField(value: unknown, key: string): string | undefined {
  const field = isRecord(value) ? value[key] : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** An array field of an untrusted object, or an empty array. */
export function arrayField(value: unknown, key: string): unknown[] {
  const field = isRecord(value) ? value[key] : undefined;
  return Array.isArray(field) ? field : [];
}
