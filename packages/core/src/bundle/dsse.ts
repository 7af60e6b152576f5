/**
 * DSSE v1 pre-authentication encoding: the exact bytes that are signed.
 * `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([header, payload]);
}

/** What Python's `repr(bytes)` writes for each byte value. */
const REPR: readonly Uint8Array[] = Array.from({ length: 256 }, (_, byte) => {
  const text =
    byte === 0x5c ? '\\\\'
    : byte === 0x27 ? "\\'"
    : byte === 0x09 ? '\\t'
    : byte === 0x0a ? '\\n'
    : byte === 0x0d ? '\\r'
    : byte < 0x20 || byte >= 0x7f ? `\\x${byte.toString(16).padStart(2, '0')}`
    : String.fromCharCode(byte);
  return Buffer.from(text, 'latin1');
});

/**
 * Python's `repr(bytes)` as bytes, written into one buffer sized for the
 * worst case (4 bytes per input byte) so time and memory stay linear in the
 * payload, which is unsigned when this runs.
 */
function pythonBytesRepr(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length * 4 + 3);
  out[0] = 0x62; // b
  out[1] = 0x27; // '
  let n = 2;
  for (let i = 0; i < data.length; i++) {
    const escaped = REPR[data[i]!]!;
    for (let k = 0; k < escaped.length; k++) out[n++] = escaped[k]!;
  }
  out[n++] = 0x27;
  return out.subarray(0, n);
}

/**
 * The faulty PAE that model_signing v0.2 signed over (`DSSEV1` and the
 * Python `repr` of the payload). Used only as a fallback when verifying, so
 * v0.2 signatures keep verifying as they do with the reference.
 */
export function compatPreAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEV1 ${type.length} ${payloadType} ${payload.length} `, 'utf8'), pythonBytesRepr(payload)]);
}
