// Runtime-neutral. The manifest every check of bytes is made against, and
// the only way to make one: a signature that verified. The type is branded
// and the object frozen; a manifest that did not come through here is
// refused at run time too (ManifestChecker checks `isVerifiedManifest`), so
// a parsed but unchecked statement can never stand in for a signed one.
import type { ManifestResource, Serialization } from './manifest.js';
import type { ParsedStatement } from './statement.js';

declare const verifiedBrand: unique symbol;

/**
 * A manifest recovered from a payload whose signature verified: made only
 * by `verifyBundle` and the verified-model session, and never changed
 * after (readonly, frozen).
 */
export interface VerifiedManifest {
  /** Informational name of the model (the subject name); never compared. */
  readonly modelName: string;
  readonly serialization: Readonly<Serialization>;
  readonly resources: readonly Readonly<ManifestResource>[];
  /** The subject's SHA-256 root digest (recomputed and checked for v1.0). */
  readonly rootDigest: string;
  readonly predicateType: string;
  readonly [verifiedBrand]: true;
}

const made = new WeakSet<object>();

/**
 * A frozen, verified copy of `content`, whose signature was just checked. Only the
 * signature check (`format/bundle-verification.ts`) and the session (which
 * renames a single-file model's resource) call this; it is not exported by
 * any entry.
 */
export function verifiedManifest(content: Readonly<ParsedStatement>): VerifiedManifest {
  const manifest = Object.freeze({
    modelName: content.modelName,
    serialization: Object.freeze({ ...content.serialization, ignorePaths: Object.freeze([...content.serialization.ignorePaths]) }),
    // A frozen resource cannot change: it is shared (a dataset's statement
    // makes a million); any other is copied, so the caller keeps no handle on it.
    resources: Object.freeze(
      content.resources.map((r) => (Object.isFrozen(r) ? r : Object.freeze({ name: r.name, algorithm: r.algorithm, digest: r.digest }))),
    ),
    rootDigest: content.rootDigest,
    predicateType: content.predicateType,
  }) as unknown as VerifiedManifest;
  made.add(manifest);
  return manifest;
}

/** Whether `manifest` was made by {@link verifiedManifest}, not merely shaped like one. */
export function isVerifiedManifest(manifest: object): manifest is VerifiedManifest {
  return made.has(manifest);
}
