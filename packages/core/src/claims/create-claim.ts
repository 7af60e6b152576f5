// Runtime-neutral (no `node:*`): a claim is an in-toto statement about the
// model's root digest, signed into a Sigstore bundle like an OMS signature.
import { ModelSigningError } from '../errors.js';
import { signPayload } from '../format/bundle-builder.js';
import type { SerializedBundle } from '../format/bundle.js';
import type { Signer } from '../format/signer.js';
import { PAYLOAD_TYPE, STATEMENT_TYPE } from '../format/statement.js';
import { predicateTypeFor } from './predicates/index.js';

/** Options for {@link createClaim}. */
export interface CreateClaimParams {
  /** What the claim is about: the model, by its OMS subject. */
  subject: {
    /** The subject name (the model's folder or file name, as an OMS signature names it); informational. */
    name: string;
    /** The model's root digest (hex SHA-256), as signing computes it (`model-signing digest`). */
    rootDigest: string;
  };
  /** The predicate type URI: a known one (model card, test result, SLSA provenance) is checked against its schema. */
  predicateType: string;
  /** The predicate, a JSON object. */
  predicate: unknown;
  /** Any signer: key, certificate, Sigstore, PKCS#11, KMS. */
  signer: Signer;
  /** Cancels the operation: it rejects with a `ModelSigningError` coded `ABORTED`. */
  abortSignal?: AbortSignal;
}

/**
 * Signs a claim about a model: checks the predicate against its type's
 * schema first (nothing is signed when it fails), then signs an in-toto
 * Statement v1 whose single subject is the model's name and root digest.
 * The bundle is what one line of `claims.jsonl` holds.
 *
 * @throws {ModelSigningError} `PREDICATE_INVALID`, `INVALID_ARGUMENT` (a bad
 *   root digest or predicate type), signer errors, `ABORTED`.
 */
export async function createClaim(params: CreateClaimParams): Promise<SerializedBundle> {
  const { subject } = params;
  if (!/^[0-9a-f]{64}$/i.test(subject.rootDigest)) {
    throw new ModelSigningError({ code: 'INVALID_ARGUMENT', message: 'The subject root digest must be a SHA-256 digest (64 hex digits)' });
  }
  await predicateTypeFor(params.predicateType).validate(params.predicate);
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: subject.name, digest: { sha256: subject.rootDigest.toLowerCase() } }],
    predicateType: params.predicateType,
    predicate: params.predicate,
  };
  const payload = new TextEncoder().encode(JSON.stringify(statement));
  const signal = params.abortSignal;
  return signPayload({ payload, payloadType: PAYLOAD_TYPE, signer: params.signer, ...(signal ? { abortSignal: signal } : {}) });
}
