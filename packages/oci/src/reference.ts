// A model's address in a registry: `oci://host[:port]/repository[:tag][@digest]`,
// parsed by the distribution spec's grammar, so that nothing a user types
// can turn into another path or host in a request URL.
import { ModelSigningError } from '@model-signing/core';

/** Where a model is in a registry. */
export interface OciReference {
  /** The registry as typed (`ghcr.io`, `127.0.0.1:5000`); credentials are looked up under it. */
  registry: string;
  /** The host the distribution API is served on: `registry` itself, except Docker Hub's `registry-1.docker.io`. */
  apiHost: string;
  /** `org/model`; Docker Hub names of one component get `library/`. */
  repository: string;
  /** The tag, when the reference names one (`latest` when it names neither tag nor digest). */
  tag?: string;
  /** `sha256:<hex>`, when the reference pins one. */
  digest?: string;
}

/** The prefix that marks a registry reference on the command line. */
export const OCI_SCHEME = 'oci://';

// The distribution spec's grammar (spec.md, "Pulling manifests").
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
// A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Whether `value` is a registry reference (`oci://…`) rather than a path. */
export function isOciReference(value: string): boolean {
  return value.startsWith(OCI_SCHEME);
}

function invalid(reference: string, why: string): ModelSigningError {
  return new ModelSigningError({
    code: 'INVALID_ARGUMENT',
    message: `'${reference}' is not a registry reference: ${why} (expected oci://host[:port]/repository[:tag][@sha256:digest])`,
  });
}

/**
 * Parses `oci://host[:port]/repository[:tag][@digest]` (the `oci://` prefix
 * is optional). A reference with neither tag nor digest means `:latest`, as
 * `docker pull` and `oras pull` read it.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` naming what is wrong;
 *   `UNSUPPORTED_DIGEST` for a digest that is not sha256.
 */
export function parseOciReference(reference: string): OciReference {
  const rest = isOciReference(reference) ? reference.slice(OCI_SCHEME.length) : reference;
  const slash = rest.indexOf('/');
  if (slash <= 0) throw invalid(reference, 'no registry host and repository');
  const registry = rest.slice(0, slash);
  if (!HOST.test(registry)) throw invalid(reference, `'${registry}' is not a host name`);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf('@');
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(reference, `'${digest}' is not a digest`);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw new ModelSigningError({
        code: 'UNSUPPORTED_DIGEST',
        message: `'${reference}' pins the manifest by '${digest}'; only sha256 digests (sha256:<64 hex digits>) are supported`,
      });
    }
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(reference, `'${tag}' is not a tag`);
  }
  let repository = path;
  const apiHost = DOCKER_HUB.has(registry.toLowerCase()) ? 'registry-1.docker.io' : registry;
  if (apiHost === 'registry-1.docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) throw invalid(reference, `'${repository}' is not a repository name (lowercase, / between components)`);
  return {
    registry,
    apiHost,
    repository,
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** The reference as `oci://host/repository[:tag][@digest]`, for messages. */
export function formatOciReference(ref: OciReference): string {
  return `${OCI_SCHEME}${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The repository's last component (`tiny` for `m/tiny`): the model's name, as the folder `oras pull` is usually run in. */
export function repositoryName(ref: OciReference): string {
  return ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
}
