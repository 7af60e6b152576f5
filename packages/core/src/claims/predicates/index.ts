// Runtime-neutral (no `node:*`). The predicate types model-signing knows: a
// new claim type is one file beside this one, listed here.
import { ModelSigningError } from '../../errors.js';
import { COMPAT_PREDICATE_TYPE, PREDICATE_TYPE } from '../../format/statement.js';
import { cycloneDx } from './model-card.js';
import { isRecord, type PredicateType } from './predicate-type.js';
import { slsaProvenance } from './slsa-provenance.js';
import { testResult } from './test-result.js';

/** The predicate types checked against a schema before signing and shown readably. */
export const PREDICATE_TYPES: readonly PredicateType[] = [cycloneDx, testResult, slsaProvenance];

/** Any other predicate type: a JSON object, shown as its top-level keys. */
function otherPredicateType(uri: string): PredicateType {
  return {
    uri,
    title: 'predicate',
    async validate(predicate) {
      if (!isRecord(predicate)) throw new ModelSigningError({ code: 'PREDICATE_INVALID', message: 'A predicate must be a JSON object' });
    },
    describe: (predicate) => [`fields: ${isRecord(predicate) ? Object.keys(predicate).slice(0, 20).join(', ') || '(none)' : '?'}`],
  };
}

/**
 * The predicate type for a URI: a known one, or any other (checked only to
 * be a JSON object).
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a URI that is not
 *   absolute, or for the OMS signature's own type (`model-signing sign` makes those).
 */
export function predicateTypeFor(uri: string): PredicateType {
  if (uri === PREDICATE_TYPE || uri === COMPAT_PREDICATE_TYPE) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: `'${uri}' is the OMS signature itself; sign the model to make one` });
  }
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri)) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      message: `The predicate type '${uri}' is not an absolute URI (e.g. https://example.com/my-claim/v1)`,
    });
  }
  return PREDICATE_TYPES.find((t) => t.uri === uri) ?? otherPredicateType(uri);
}

/**
 * A predicate for people, whatever its type: the type's title and a few
 * lines. Never throws: claims come from anyone, and listing must go on.
 */
export function describePredicate(predicateType: string, predicate: unknown): { title: string; lines: string[] } {
  const type = PREDICATE_TYPES.find((t) => t.uri === predicateType) ?? otherPredicateType(predicateType);
  try {
    return { title: type.title, lines: type.describe(predicate) };
  } catch {
    return { title: type.title, lines: ['(cannot be shown)'] };
  }
}
