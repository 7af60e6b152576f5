export type TokenKeyType = 'P-256' | 'P-384' | 'P-521' | 'RSA';
export interface SoftHsmToken {
  module: string;
  label: string;
  pin: string;
  generateKey(type: TokenKeyType, id: string, object: string): void;
  exportPublicKey(id: string, file: string): string;
  writeCertificate(pemFile: string, id: string, object: string): void;
}
export function createSoftHsmToken(dir: string, options?: { label?: string; pin?: string }): SoftHsmToken;
