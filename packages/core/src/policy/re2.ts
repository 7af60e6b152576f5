// RE2 patterns for identities and conditions, and the error for what does not
// compile, apart from the CEL engine so that verifying under a compiled policy
// does not load CEL (start-up cost).
import { RE2JS } from 're2js';

/** Why a condition does not compile. */
export class ConditionSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

/** A regular expression RE2 runs in linear time, or why RE2 refuses it. */
export function compileRe2(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    throw new ConditionSyntaxError(`RE2 cannot run the regular expression /${pattern}/: ${(err as Error).message}`);
  }
}
