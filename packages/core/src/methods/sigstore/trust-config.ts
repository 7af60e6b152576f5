import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Service, ServiceConfiguration, ServiceSelector, SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
import { sigstoreLibraries } from './libraries.js';
import { ModelSigningError } from '../../errors.js';
import { PRODUCTION_SIGNING_CONFIG } from './roots/production.js';
import { STAGING_SIGNING_CONFIG, STAGING_TRUSTED_ROOT, STAGING_TUF_MIRROR, STAGING_TUF_ROOT } from './roots/staging.js';

/** The production TUF repository, whose root and trusted root ship inside @sigstore/tuf. */
const PRODUCTION_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
const CLIENT_TRUST_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';
const DEFAULT_TUF_TIMEOUT_MS = 5_000;

/** Where to refresh trusted roots from through TUF. */
export interface TufOptions {
  /** TUF repository URL. Default: the instance's public mirror. */
  mirrorUrl?: string;
  /** Initial TUF root.json for `mirrorUrl`. Default: the one shipped for the instance. */
  rootPath?: string;
  /** Directory for TUF metadata. Default: @sigstore/tuf's per-user cache. */
  cachePath?: string;
  /** Give up on TUF after this long and use the bundled root. Default 5000. */
  timeoutMs?: number;
}

/** Options for {@link loadTrustConfig}. */
export interface LoadTrustConfigOptions {
  /** Use the public-good staging instance instead of production. */
  useStaging?: boolean;
  /** Path of a ClientTrustConfig JSON file (private instance); wins over `useStaging`. */
  trustConfig?: string;
  /** Never contact TUF: use the roots shipped with this package. */
  offline?: boolean;
  tuf?: TufOptions;
}

/** The trust material for one Sigstore instance. */
export interface SigstoreTrustConfig {
  trustedRoot: TrustedRoot;
  signingConfig: SigningConfig;
  /** Which root this is, for reports: `production (bundled)`, `production (TUF)`, `staging (bundled)`, `staging (TUF)` or `custom trust config`. */
  source: string;
  /** Why TUF was not used although it was allowed, when it failed. */
  tufError?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badConfig(file: string, message: string, cause?: unknown): ModelSigningError {
  return new ModelSigningError({ code: 'INVALID_ARGUMENT', path: file, cause, message: `Trust config '${file}' is invalid: ${message}` });
}

/**
 * Parses a ClientTrustConfig document. Accepts the protobuf JSON names in
 * both spellings (`trustedRoot` / `trusted_root`, `signingConfig` /
 * `signing_config`), as sigstore-python does.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` naming the problem.
 */
export async function parseClientTrustConfig(
  text: string,
  file = 'trust config',
): Promise<{ trustedRoot: TrustedRoot; signingConfig: SigningConfig }> {
  const { TrustedRoot, SigningConfig } = (await sigstoreLibraries()).protobuf;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw badConfig(file, 'it is not valid JSON', cause);
  }
  if (!isRecord(json)) throw badConfig(file, 'it is not a JSON object');
  if (json['mediaType'] !== CLIENT_TRUST_CONFIG_MEDIA_TYPE) {
    throw badConfig(file, `mediaType is '${String(json['mediaType'])}', expected '${CLIENT_TRUST_CONFIG_MEDIA_TYPE}'`);
  }
  const root = json['trustedRoot'] ?? json['trusted_root'];
  const signing = json['signingConfig'] ?? json['signing_config'];
  if (!isRecord(root)) throw badConfig(file, 'trustedRoot is missing');
  if (!isRecord(signing)) throw badConfig(file, 'signingConfig is missing');
  try {
    return { trustedRoot: TrustedRoot.fromJSON(root), signingConfig: SigningConfig.fromJSON(signing) };
  } catch (cause) {
    throw badConfig(file, (cause as Error).message, cause);
  }
}

/** The production trusted root seeded in @sigstore/tuf: the same file its TUF client starts from. */
async function bundledProductionRoot(): Promise<TrustedRoot> {
  const { TrustedRoot } = (await sigstoreLibraries()).protobuf;
  const require = createRequire(import.meta.url);
  // @sigstore/tuf has no "exports" map, so its seeds file resolves by path.
  const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const encoded = seeds[PRODUCTION_TUF_MIRROR]?.targets['trusted_root.json'];
  if (!encoded) throw new Error('@sigstore/tuf no longer ships the production trusted root');
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
}

async function refreshThroughTuf(
  instance: 'production' | 'staging',
  tuf: TufOptions,
): Promise<{ trustedRoot: TrustedRoot; signingConfig?: SigningConfig }> {
  const {
    protobuf: { TrustedRoot, SigningConfig },
    tuf: { initTUF },
  } = await sigstoreLibraries();
  const mirrorURL = tuf.mirrorUrl ?? (instance === 'staging' ? STAGING_TUF_MIRROR : PRODUCTION_TUF_MIRROR);
  let rootPath = tuf.rootPath;
  let scratch: string | undefined;
  if (!rootPath && instance === 'staging' && !tuf.mirrorUrl) {
    // @sigstore/tuf only seeds production; give it the staging TUF root we ship.
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'model-signing-tuf-'));
    rootPath = path.join(scratch, 'root.json');
    await fs.writeFile(rootPath, JSON.stringify(STAGING_TUF_ROOT));
  }
  let client: Awaited<ReturnType<typeof initTUF>>;
  try {
    // initTUF copies rootPath into its cache before returning.
    client = await initTUF({
      mirrorURL,
      ...(rootPath ? { rootPath } : {}),
      ...(tuf.cachePath ? { cachePath: tuf.cachePath } : {}),
      timeout: tuf.timeoutMs ?? DEFAULT_TUF_TIMEOUT_MS,
      retry: false,
    });
  } finally {
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  }
  const trustedRoot = TrustedRoot.fromJSON(JSON.parse(await client.getTarget('trusted_root.json')));
  try {
    return { trustedRoot, signingConfig: SigningConfig.fromJSON(JSON.parse(await client.getTarget('signing_config.v0.2.json'))) };
  } catch {
    // Older repositories publish no signing config; the bundled one still names the services.
    return { trustedRoot };
  }
}

/**
 * Chooses the trust material for a Sigstore instance: a ClientTrustConfig
 * file when given; else production or staging, refreshed through TUF when
 * the network allows and the roots shipped with this package otherwise. A
 * TUF failure never fails the caller: it falls back to the shipped roots and
 * says so in `source` and `tufError`.
 *
 * @throws {ModelSigningError} `NOT_FOUND` / `INVALID_ARGUMENT` for an unreadable or invalid trust config file.
 */
export async function loadTrustConfig(options: LoadTrustConfigOptions = {}): Promise<SigstoreTrustConfig> {
  if (options.trustConfig) {
    let text: string;
    try {
      text = await fs.readFile(options.trustConfig, 'utf8');
    } catch (cause) {
      throw new ModelSigningError({
        code: 'NOT_FOUND',
        path: options.trustConfig,
        cause,
        message: `Trust config '${options.trustConfig}' cannot be read: ${(cause as Error).message}`,
      });
    }
    return { ...(await parseClientTrustConfig(text, options.trustConfig)), source: 'custom trust config' };
  }
  const instance = options.useStaging ? 'staging' : 'production';
  const { TrustedRoot, SigningConfig } = (await sigstoreLibraries()).protobuf;
  const bundled = {
    trustedRoot: instance === 'staging' ? TrustedRoot.fromJSON(STAGING_TRUSTED_ROOT) : await bundledProductionRoot(),
    signingConfig: SigningConfig.fromJSON(instance === 'staging' ? STAGING_SIGNING_CONFIG : PRODUCTION_SIGNING_CONFIG),
    source: `${instance} (bundled)`,
  };
  if (options.offline) return bundled;
  try {
    const fresh = await refreshThroughTuf(instance, options.tuf ?? {});
    return { trustedRoot: fresh.trustedRoot, signingConfig: fresh.signingConfig ?? bundled.signingConfig, source: `${instance} (TUF)` };
  } catch (cause) {
    return { ...bundled, tufError: (cause as Error).message };
  }
}

/** The services a signer uses, chosen from a signing config by {@link selectSigningServices}. */
export interface SigningServices {
  /** The Fulcio CA that certifies the signing key. */
  ca: Service;
  /** The OIDC issuer to sign in with, when the config names one. */
  oidc?: Service;
  /**
   * The transparency log the signature is logged in: Rekor v1 (a `dsse`
   * entry) or v2 (a `hashedrekord` entry over the DSSE PAE). One log, as the
   * reference writes: it verifies only bundles with exactly one entry.
   */
  tlog: Service;
  /** The timestamp authorities to ask for an RFC 3161 timestamp each, as the config's `tsaConfig` selects them. */
  tsas: Service[];
}

/** The major API versions this package's signer speaks, per kind of service. */
const API_VERSIONS = { ca: [1], oidc: [1], tlog: [1, 2], tsa: [1] } as const;

/** Whether the service speaks a version we do and its validity window (inclusive) holds `now`. */
function usable(service: Service, versions: readonly number[], now: Date): boolean {
  const { start, end } = service.validFor ?? {};
  return versions.includes(service.majorApiVersion) && (!start || start <= now) && (!end || now <= end);
}

/**
 * The usable services of the highest API version, newest validity start
 * first; a stable sort, so the config's own order breaks ties.
 */
function newestOfHighestVersion(services: Service[], versions: readonly number[], now: Date): Service[] {
  const candidates = services.filter((s) => usable(s, versions, now));
  const highest = Math.max(...candidates.map((s) => s.majorApiVersion));
  return candidates
    .filter((s) => s.majorApiVersion === highest)
    .sort((a, b) => (b.validFor?.start?.getTime() ?? 0) - (a.validFor?.start?.getTime() ?? 0));
}

/**
 * Services of one kind for a selector: the newest of the highest API version
 * from each operator (never two from one operator, never two versions), then
 * `ALL` of them, `ANY` one (the newest), or `EXACT` `count`. A config
 * without a selector takes all, as sigstore-python does.
 */
function selectByConfig(
  selectors: typeof ServiceSelector,
  services: Service[],
  config: ServiceConfiguration | undefined,
  versions: readonly number[],
  now: Date,
  what: string,
): Service[] {
  const byOperator = new Map<string, Service>();
  for (const s of newestOfHighestVersion(services, versions, now)) if (!byOperator.has(s.operator)) byOperator.set(s.operator, s);
  const selected = [...byOperator.values()];
  switch (config?.selector ?? selectors.ALL) {
    case selectors.ALL:
      return selected;
    case selectors.ANY:
      return selected.slice(0, 1);
    case selectors.EXACT:
      if (!config?.count) throw new Error(`its ${what} selector is EXACT with no count`);
      if (selected.length < config.count)
        throw new Error(`its ${what} selector asks for ${config.count} services of distinct operators, and ${selected.length} are usable`);
      return selected.slice(0, config.count);
    default:
      throw new Error(`its ${what} selector is undefined`);
  }
}

/**
 * Chooses the services to sign with as the Sigstore client specification
 * (protobuf-specs' SigningConfig) has clients choose them: only services of
 * an API version this signer speaks (Fulcio v1, OIDC v1, Rekor v1 and v2,
 * TSA v1) whose validity window holds `now`; of those, the highest API
 * version and then the newest validity start. Rekor logs and timestamp
 * authorities go by the config's selectors, one per operator. So a config
 * that lists a Rekor v2 log beside a v1 log, as Sigstore's staging and
 * production configs do during the move to Rekor v2, signs on the v2 log.
 *
 * @throws {ModelSigningError} `INVALID_ARGUMENT` naming what the config lacks.
 */
export async function selectSigningServices(config: SigningConfig, source: string, now = new Date()): Promise<SigningServices> {
  const selectors = (await sigstoreLibraries()).protobuf.ServiceSelector;
  const invalid = (message: string, cause?: unknown) =>
    new ModelSigningError({ code: 'INVALID_ARGUMENT', cause, message: `The ${source} signing config cannot be signed with: ${message}` });
  const ca = newestOfHighestVersion(config.caUrls, API_VERSIONS.ca, now)[0];
  if (!ca) throw invalid('it names no currently valid Fulcio (v1) service');
  const oidc = newestOfHighestVersion(config.oidcUrls, API_VERSIONS.oidc, now)[0];
  let tlogs: Service[];
  let tsas: Service[];
  try {
    tlogs = selectByConfig(selectors, config.rekorTlogUrls, config.rekorTlogConfig, API_VERSIONS.tlog, now, 'Rekor log');
    tsas = selectByConfig(selectors, config.tsaUrls, config.tsaConfig, API_VERSIONS.tsa, now, 'timestamp authority');
  } catch (cause) {
    throw invalid((cause as Error).message, cause);
  }
  const [tlog] = tlogs;
  if (!tlog) throw invalid('it names no currently valid Rekor v1 or v2 log');
  // A v2 entry has no signed entry timestamp; the only time a verifier can trust is a timestamp authority's.
  if (tlog.majorApiVersion === 2 && tsas.length === 0)
    throw invalid(`its Rekor v2 log (${tlog.url}) gives no signed time, and it names no currently valid timestamp authority`);
  return { ca, ...(oidc ? { oidc } : {}), tlog, tsas };
}
