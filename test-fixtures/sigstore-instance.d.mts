/** A ClientTrustConfig in Sigstore's protobuf JSON form, loosely typed: tests edit any field. */
export type ClientTrustConfigJson = {
  mediaType: string;
  trustedRoot: Record<string, any>;
  signingConfig: Record<string, any>;
};

/** A running private Sigstore instance (real Fulcio, Rekor v2 and TSA; a signing OIDC issuer; @sigstore/mock's CT log). */
export interface SigstoreInstance {
  /** The temporary directory with the servers' state and logs; removed by `close()`. */
  dir: string;
  /** The instance's ClientTrustConfig file: its signing config lists only the Rekor v2 log. */
  trustConfigPath: string;
  /** A fresh copy of that ClientTrustConfig, to edit into other configs. */
  trustConfig(): ClientTrustConfigJson;
  /** Where each service listens; `tsa` is the full timestamp endpoint, `oidc` the issuer URL (also the certificates' issuer). */
  urls: { oidc: string; fulcio: string; rekor: string; tsa: string; ctLog: string };
  /** The Rekor v2 log's checkpoint origin and the directory of its checkpoint and tiles. */
  rekor: { origin: string; storageDir: string };
  /** An ES256 identity token from the instance's issuer for `email` (audience `sigstore`, valid 10 minutes); `claims` override any claim. */
  identityToken(claims: { email: string } & Record<string, unknown>): string;
  close(): Promise<void>;
}

/**
 * Starts Fulcio, Rekor v2, a TSA, an OIDC issuer and a CT log on loopback (well under a second) and writes the ClientTrustConfig.
 * The OIDC issuer and the CT log answer from this process: run other programs against the instance without blocking it
 * (`execFile`, not `execFileSync`), or Fulcio waits for them until it times out.
 */
export function startSigstoreInstance(): Promise<SigstoreInstance>;
