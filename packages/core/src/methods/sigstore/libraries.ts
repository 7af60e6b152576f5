/** The sigstore-js libraries keyless signing and verification use. */
export interface SigstoreLibraries {
  bundle: typeof import('@sigstore/bundle');
  protobuf: typeof import('@sigstore/protobuf-specs');
  sign: typeof import('@sigstore/sign');
  tuf: typeof import('@sigstore/tuf');
  verify: typeof import('@sigstore/verify');
}

let loading: Promise<SigstoreLibraries> | undefined;

/**
 * Loads the sigstore-js libraries on first use. They take about 130 ms and
 * 20 MB to load, which key and certificate users (and `--help`) should not
 * pay just because core re-exports the keyless signer and verifier.
 */
export function sigstoreLibraries(): Promise<SigstoreLibraries> {
  loading ??= Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/protobuf-specs'),
    import('@sigstore/sign'),
    import('@sigstore/tuf'),
    import('@sigstore/verify'),
  ]).then(([bundle, protobuf, sign, tuf, verify]) => ({ bundle, protobuf, sign, tuf, verify }));
  return loading;
}
