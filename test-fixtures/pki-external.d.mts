import type { CertificateAuthority } from './pki.mjs';
export function issueLeafForPublicKey(dir: string, ca: CertificateAuthority, publicKeyPem: string, name: string): string;
