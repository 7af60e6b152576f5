// Registry credentials where users already keep them: Docker's config file
// (`~/.docker/config.json`, or `$DOCKER_CONFIG/config.json`), which
// `docker login`, `oras login`, `podman login --compat-auth-file` and cloud
// CLIs write: an `auths` entry, or a credential helper (`credHelpers`,
// `credsStore`) run as Docker runs it. Read only when a registry asks.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelSigningError } from '@model-signing/core';

/** Credentials for one registry. */
export type RegistryCredentials =
  /** A user name and password (or an access token used as one, as GitHub's and GitLab's registries take it). */
  | { username: string; password: string }
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the registry's token service. */
  | { identityToken: string };

/** The most bytes of a Docker config file read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The Docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(): string {
  const dir = process.env['DOCKER_CONFIG'] || path.join(os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys Docker files a registry's credentials under: the host, or a URL of it (Docker Hub under its index URL). */
function keysFor(registry: string): string[] {
  const host = registry.toLowerCase();
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)) {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [host];
}

/** `https://host/v1/` and `host` alike, as Docker matches `auths` keys. */
function hostOfKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/**
 * The credentials the Docker config file holds for `registry`, if any: its
 * credential helper (`credHelpers`, else `credsStore`), else its `auths`
 * entry (`auth` as base64 `user:password`, or `username` and `password`, or
 * `identitytoken`).
 *
 * @param configPath the file; a missing file means no credentials.
 * @throws {ModelSigningError} `INVALID_ARGUMENT` for a file that is not a
 *   Docker config; `ACCESS_DENIED` when its credential helper fails;
 *   `NOT_FOUND` when that helper is not installed.
 */
export async function dockerCredentials(registry: string, configPath: string): Promise<RegistryCredentials | undefined> {
  const config = await readConfig(configPath);
  if (!config) return undefined;
  const keys = keysFor(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => h !== undefined) ?? config.credsStore;
  if (helper) {
    const found = await fromHelper(helper, keys[0]);
    if (found) return found;
  }
  const entries = Object.entries(config.auths ?? {});
  const entry = keys.map((k) => entries.find(([key]) => key === k || hostOfKey(key) === hostOfKey(k))?.[1]).find((e) => e !== undefined);
  if (!entry) return undefined;
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

async function readConfig(configPath: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    const handle = await fs.open(configPath, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_CONFIG_BYTES) throw new Error(`it has ${size} bytes, more than ${MAX_CONFIG_BYTES}`);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      cause,
      message: `Cannot read the registry credentials in ${configPath}: ${(cause as Error).message}`,
    });
  }
  try {
    const parsed = JSON.parse(text) as DockerConfig | null;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (cause) {
    throw new ModelSigningError({
      code: 'INVALID_ARGUMENT',
      cause,
      message: `${configPath} is not a Docker config file: ${(cause as Error).message}`,
    });
  }
}

/**
 * Asks `docker-credential-<helper> get` for the registry's credentials, as
 * Docker does: the server on standard input, JSON on standard output. A
 * helper that has none answers "credentials not found": no credentials.
 */
function fromHelper(helper: string, server: string): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new ModelSigningError({
              code: 'NOT_FOUND',
              cause: error,
              message: `The Docker config names the credential helper '${helper}', but ${program} is not installed`,
            }),
          );
        } else if (/credentials not found/i.test(stdout)) resolve(undefined);
        else {
          reject(
            new ModelSigningError({
              code: 'ACCESS_DENIED',
              cause: error,
              message: `The credential helper ${program} failed for ${server}: ${stdout.trim() || error.message}`,
            }),
          );
        }
        return;
      }
      try {
        const { Username, Secret } = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
        if (typeof Username !== 'string' || typeof Secret !== 'string') throw new Error('no Username and Secret');
        // Docker's convention: the user name `<token>` marks an identity token.
        resolve(Username === '<token>' ? { identityToken: Secret } : { username: Username, password: Secret });
      } catch (cause) {
        reject(
          new ModelSigningError({
            code: 'ACCESS_DENIED',
            cause,
            message: `The credential helper ${program} answered something other than credentials for ${server}`,
          }),
        );
      }
    });
    child.stdin?.end(server);
  });
}
