// Runtime-neutral (no `node:*`): the one function that turns the bytes of a
// signature file into a verified OMS signature, whatever its layout.
import { ModelSigningError } from '../errors.js';
import { parseBundle, type ParseBundleOptions } from '../format/bundle.js';
import { verifyBundle, type VerifiedBundle } from '../format/bundle-verification.js';
import type { Verifier } from '../format/verifier.js';
import { isClaimsWarning, parseClaimLine } from './claim.js';
import { DEFAULT_MAX_CLAIM_LINES, splitClaimLines, type ClaimsWarning } from './lines.js';
import { isSignaturePredicate } from './verify-claims.js';

/** Where the verified signature came from. */
export interface SignatureSource {
  /** `bundle`: the file is one Sigstore bundle (`model.sig`, `*.sigstore.json`); `claims`: a claims file (`claims.jsonl`). */
  layout: 'bundle' | 'claims';
  /** Claims files: the 1-based line number of the signature that verified (the newest that does). */
  line?: number;
  /** Claims files: how many lines with content the file has. */
  lines?: number;
  /** Claims files: lines skipped on the way (not JSON, not a bundle, cut short). */
  warnings: ClaimsWarning[];
}

/** An OMS signature that verified, and where in the file it was. */
export interface VerifiedSignature extends VerifiedBundle {
  source: SignatureSource;
}

/** Options for {@link verifySignatureBytes}. */
export interface VerifySignatureBytesParams extends ParseBundleOptions {
  /** The signature file's bytes, read within `maxBundleBytes` (64 MiB by default). */
  bytes: Uint8Array;
  verifier: Verifier;
  /** The file's name or path: a name ending in `.jsonl` is read as a claims file whatever it holds; also used in messages. */
  name?: string;
  /** The most OMS signatures of a claims file tried, newest first. Default 10,000. */
  maxLines?: number;
}

/** Signature errors that mean "not signed by the party this verifier trusts", as opposed to a broken signature. */
const NOT_OURS = new Set(['KEY_MISMATCH', 'IDENTITY_MISMATCH', 'CERT_CHAIN_INVALID']);
/** How many lines' reasons a failure message lists. */
const REASONS_SHOWN = 5;

/**
 * Turns the bytes of a signature file into a verified OMS signature: the
 * signature over the exact payload checked with `verifier`, then the
 * statement. No model file is read.
 *
 * - One Sigstore bundle (`model.sig`, `*.sigstore.json`): as `verifyBundle`.
 * - A claims file (`claims.jsonl`, one compact bundle per line: the layout
 *   of the OMS spec's pending "Unified Bundle Layout"): the OMS signature is
 *   the newest line (last first, as the reference does) whose predicate is
 *   an OMS signature and that `verifier` accepts; the result says which
 *   line. Claims of other types are passed over, lines that are not claims
 *   are skipped with a warning naming them, and a truncated last line is
 *   reported. A file is read as a claims file when its name ends in `.jsonl`,
 *   or when it holds more than one line and is not one JSON document.
 *
 * @throws {ModelSigningError} as `verifyBundle` (`BAD_BUNDLE`, `BUNDLE_TOO_LARGE`,
 *   `SIGNATURE_INVALID`, `KEY_MISMATCH`, `WRONG_METHOD`, …). For a claims
 *   file: the error of the newest OMS signature that failed, its message
 *   listing why each failed; `WRONG_METHOD` when every OMS signature was made
 *   by another method; `BAD_BUNDLE` when no line is an OMS signature.
 */
export async function verifySignatureBytes(params: VerifySignatureBytesParams): Promise<VerifiedSignature> {
  const { bytes, verifier } = params;
  if (!params.name?.endsWith('.jsonl')) {
    try {
      const bundle = parseBundle(bytes, params);
      return { ...(await verifyBundle({ bundle, verifier })), source: { layout: 'bundle', warnings: [] } };
    } catch (err) {
      // Not one JSON document: a claims file under another name, or a broken bundle.
      const notJson = err instanceof ModelSigningError && err.code === 'BAD_BUNDLE' && err.cause instanceof SyntaxError;
      if (!notJson || splitClaimLines(bytes, { ...params, maxClaimsBytes: Math.max(bytes.length, 1), maxLines: 2 }).lines.length < 2)
        throw err;
    }
  }
  return verifyClaimsFileSignature(params);
}

function byLine(warnings: ClaimsWarning[]): ClaimsWarning[] {
  return warnings.sort((a, b) => a.line - b.line);
}

async function verifyClaimsFileSignature(params: VerifySignatureBytesParams): Promise<VerifiedSignature> {
  const { verifier } = params;
  const file = params.name ?? 'the claims file';
  const maxTried = params.maxLines ?? DEFAULT_MAX_CLAIM_LINES;
  // Every line is split (cheap: views into `bytes`), so the newest ones are reached whatever the count.
  const { lines, warnings } = splitClaimLines(params.bytes, {
    ...params,
    maxClaimsBytes: Math.max(params.bytes.length, 1),
    maxLines: Number.MAX_SAFE_INTEGER,
  });
  if (lines.length === 0) {
    throw new ModelSigningError({ code: 'BAD_BUNDLE', message: `Invalid signature bundle: ${file} holds no line with a bundle` });
  }
  const failures: { line: number; error: ModelSigningError }[] = [];
  const otherMethods = new Set<string>();
  let signatures = 0;
  let tried = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const claim = parseClaimLine(lines[i]);
    if (isClaimsWarning(claim)) {
      warnings.push(claim);
      continue;
    }
    if (!isSignaturePredicate(claim.statement.predicateType)) continue;
    signatures++;
    if (claim.bundle.method !== verifier.method) {
      otherMethods.add(claim.bundle.method);
      continue;
    }
    if (tried === maxTried) {
      warnings.push({
        code: 'CLAIMS_LINE_LIMIT',
        line: claim.line,
        message: `stopped at line ${claim.line}: ${maxTried} OMS signatures (the limit, maxLines) were tried; older lines were not`,
      });
      break;
    }
    tried++;
    try {
      const verified = await verifyBundle({ bundle: claim.bundle, verifier });
      return { ...verified, source: { layout: 'claims', line: claim.line, lines: lines.length, warnings: byLine(warnings) } };
    } catch (err) {
      if (!(err instanceof ModelSigningError)) throw err;
      failures.push({ line: claim.line, error: err });
    }
  }
  if (failures.length === 0) {
    if (otherMethods.size > 0) {
      throw new ModelSigningError({
        code: 'WRONG_METHOD',
        message: `Every OMS signature in ${file} was made with the ${[...otherMethods].join(' or ')} method, none with '${verifier.method}'; verify with that method`,
      });
    }
    const sorted = byLine(warnings);
    const shown = sorted.slice(0, REASONS_SHOWN).map((w) => w.message);
    if (sorted.length > REASONS_SHOWN) shown.push(`and ${sorted.length - REASONS_SHOWN} more`);
    const skipped = shown.length > 0 ? `: ${shown.join('; ')}` : '';
    throw new ModelSigningError({
      code: 'BAD_BUNDLE',
      message: `Invalid signature bundle: no line of ${file} is an OMS signature (${lines.length} lines, ${signatures} signatures)${skipped}`,
    });
  }
  // The newest broken signature, else the newest "signed by someone else".
  const { error } = failures.find((f) => !NOT_OURS.has(f.error.code)) ?? failures[0];
  const listed = failures.slice(0, REASONS_SHOWN).map((f) => `line ${f.line}: ${f.error.message}`);
  if (failures.length > REASONS_SHOWN) listed.push(`and ${failures.length - REASONS_SHOWN} more`);
  throw new ModelSigningError({
    code: error.code,
    cause: error,
    message:
      failures.length === 1
        ? `the OMS signature on line ${failures[0].line} of ${file} does not verify: ${error.message}`
        : `none of the ${failures.length} OMS signatures in ${file} verifies: ${listed.join('; ')}`,
  });
}
