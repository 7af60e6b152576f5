/** A registry running on loopback (plain HTTP). */
export interface RunningRegistry {
  /** `127.0.0.1:PORT`, as references and ORAS name it. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  stop(): Promise<void>;
}
/** Starts go-containerregistry's registry (with `referrers`, the build with its OCI 1.1 referrers API on) on a free loopback port; its log goes under `dir`. */
export function startRegistry(options: { dir: string; referrers?: boolean }): Promise<RunningRegistry>;
/** Runs the ORAS CLI in `cwd`, its credentials in `dockerConfigDir` (default `cwd/.docker`); rejects with its output when it fails. */
export function oras(args: string[], options: { cwd: string; dockerConfigDir?: string }): Promise<{ stdout: string; stderr: string }>;
/** What a token service saw. */
export type TokenServiceRequest =
  | { kind: 'token'; user: string; scopes: string[]; service: string | null }
  | { kind: 'registry'; method: string; path: string; allowed: boolean };
/** A token service in front of a registry: Bearer tokens for the scopes asked, to Basic `username:password` (or the identity token) only. */
export interface TokenService extends RunningRegistry {
  requests: TokenServiceRequest[];
}
export function startTokenService(options: {
  registryHost: string;
  username: string;
  password: string;
  /** Also grant tokens by POST to an OAuth2 refresh-token grant of this token (Docker's `identitytoken`). */
  identityToken?: string;
}): Promise<TokenService>;
/** Writes a Docker config file with `auths` for `host` into `dir`; returns its path. */
export function writeDockerConfig(dir: string, host: string, username: string, password: string): string;
