export interface CertificateAuthority {
  rootCert: string;
  rootKey: string;
  intermediateCert: string;
  intermediateKey: string;
}
export function makeCertificateAuthority(dir: string): CertificateAuthority;
export function issueLeaf(
  dir: string,
  ca: CertificateAuthority,
  options: {
    name: string;
    curve?: 'P-256' | 'P-384' | 'P-521';
    usage?: 'codeSigning' | 'none';
    days?: number;
    /** Exactly this validity window instead of `days` from now. */
    validity?: { notBefore: Date; notAfter: Date };
  },
): { key: string; cert: string };
