import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { SigningConfig, TrustedRoot } from '@sigstore/protobuf-specs';
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
