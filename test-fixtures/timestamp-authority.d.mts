/** A running timestamp-server. */
export interface TimestampAuthority {
  /** The endpoint that takes RFC 3161 timestamp requests (`…/api/v1/timestamp`), as a signing config's `tsaUrls` lists it. */
  url: string;
  /** The authority's certificate chain in PEM, leaf first, then intermediate and root. */
  certificateChainPem: string;
  close(): Promise<void>;
}
/** Starts sigstore's timestamp-server (in-memory signer) on a free loopback port; its log goes under `dir`. */
export function startTimestampAuthority(options: { dir: string }): Promise<TimestampAuthority>;
