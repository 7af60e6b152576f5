// Runtime-neutral (no `node:*`). Thresholds count distinct signers: two
// signatures by one key, one person's two certificates, or one Sigstore
// identity signing twice are one signer however many authorities accept them
// (TUF learned this the hard way: a threshold met by one key listed twice).
import type { ParsedBundle } from '../format/bundle.js';
import type { SignerInfo } from '../format/verifier.js';

/**
 * What identifies the signer of a verified line, whichever authority
 * accepted it: its key (for key and certificate signatures, as the OMS key
 * hint), its certificate subject, its Sigstore identity and issuer. Two
 * lines sharing any of these are the same signer.
 */
export async function signerIds(bundle: ParsedBundle, signer: SignerInfo): Promise<string[]> {
  if (bundle.method === 'sigstore') return [`sigstore:${signer.issuer ?? ''}\n${signer.identity ?? ''}`];
  const ids = new Set<string>();
  if (signer.publicKeyHint !== undefined) ids.add(`key:${signer.publicKeyHint}`);
  if (signer.certificateSubject !== undefined) ids.add(`subject:${signer.certificateSubject}`);
  const leaf = bundle.method === 'certificate' ? bundle.certificates[0] : undefined;
  if (leaf !== undefined) {
    // A key authority and a certificate authority may accept the same certificate signature: name it both ways.
    const [{ parseCertificate }, { importEcSpki }] = await Promise.all([
      import('../methods/certificate/certificate-path.js'),
      import('../methods/key/ec-public-key.js'),
    ]);
    const { certificate, subject } = parseCertificate(leaf);
    ids.add(`subject:${subject}`);
    const spki = new Uint8Array(certificate.subjectPublicKeyInfo.toSchema().toBER(false));
    const key = await importEcSpki(spki).catch(() => undefined);
    if (key) ids.add(`key:${key.hint}`);
  }
  return [...ids];
}

/** A line some authority accepted, and who signed it. */
export interface AcceptedLine<L> {
  line: L;
  authority: string;
  ids: readonly string[];
}

/** How many distinct signers, each matched to a distinct authority, the accepted lines show, and which line counts for which authority. */
export interface DistinctCount<L> {
  count: number;
  /** authority → the line counted for it. */
  counted: Map<string, L>;
  /** Lines accepted but not counted because their signer was counted already. */
  sameSigner: Set<L>;
}

/**
 * Counts distinct signers over distinct authorities: lines are grouped into
 * signers by shared identifiers, and the count is a maximum matching between
 * authorities and signers (each authority counts once, each signer once),
 * so overlapping authorities cannot count one signer twice.
 */
export function countDistinctSigners<L>(accepted: readonly AcceptedLine<L>[]): DistinctCount<L> {
  // Group lines into signers: union-find over shared identifiers.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let y = x; y !== root;) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  for (const a of accepted) {
    for (const id of a.ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of a.ids.slice(1)) parent.set(find(id), find(a.ids[0]));
  }
  const signerOf = (a: AcceptedLine<L>) => find(a.ids[0]);

  // Authority → signers it accepted (first line seen for each pair is the one counted).
  const edges = new Map<string, Map<string, L>>();
  for (const a of accepted) {
    if (a.ids.length === 0) continue;
    const signers = edges.get(a.authority) ?? new Map<string, L>();
    if (!signers.has(signerOf(a))) signers.set(signerOf(a), a.line);
    edges.set(a.authority, signers);
  }
  // Kuhn's augmenting paths: authorities on one side, signers on the other.
  const owner = new Map<string, string>(); // signer → authority
  const augment = (authority: string, seen: Set<string>): boolean => {
    for (const signer of edges.get(authority)!.keys()) {
      if (seen.has(signer)) continue;
      seen.add(signer);
      const current = owner.get(signer);
      if (current === undefined || augment(current, seen)) {
        owner.set(signer, authority);
        return true;
      }
    }
    return false;
  };
  for (const authority of edges.keys()) augment(authority, new Set());

  const counted = new Map<string, L>();
  for (const [signer, authority] of owner) counted.set(authority, edges.get(authority)!.get(signer)!);
  const countedLines = new Set(counted.values());
  const countedSigners = new Set(owner.keys());
  const sameSigner = new Set<L>();
  for (const a of accepted) if (!countedLines.has(a.line) && a.ids.length > 0 && countedSigners.has(signerOf(a))) sameSigner.add(a.line);
  return { count: counted.size, counted, sameSigner };
}
