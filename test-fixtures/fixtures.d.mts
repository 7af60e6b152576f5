/** One difference between a signed manifest and the bytes checked, as a ModelSigningError lists it. */
export interface Difference {
  kind: 'missing' | 'unsigned' | 'mismatch';
  name: string;
  expected?: string;
  actual?: string;
}
/** The shape of a ModelSigningError, as `expectCode` returns it. */
export interface CodedError extends Error {
  code: string;
  path: string | undefined;
  differences: Difference[];
}
export function ecKeyPair(curve?: 'P-256' | 'P-384' | 'P-521'): { privateKey: string; publicKey: string };
export function tempDirs(prefix?: string): { make(prefix?: string): Promise<string>; cleanup(): Promise<void> };
export function expectCode(action: Promise<unknown> | (() => Promise<unknown>), code: string, file?: string): Promise<CodedError>;
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): Promise<void>;
export function listTree(dir: string): Promise<string[]>;
