/**
 * DSSE v1 pre-authentication encodings, runtime-neutral (no Buffer): the
 * exact bytes a DSSE signature covers. Same bytes as bundle/dsse.ts, which
 * the Node layer uses until core is reshaped around this module.
 */

const utf8 = new TextEncoder();

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in bytes, in decimal. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  return concat(utf8.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `), payload);
}

function pythonBytesRepr(data: Uint8Array): string {
  let out = "b'";
  for (const byte of data) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out + "'";
}

/**
 * The faulty PAE that model_signing v0.2 signed over (`DSSEV1` and the Python
 * `repr` of the payload; docs in shared/oms/format.md §7). Only a fallback
 * when verifying, so v0.2 signatures keep verifying as with the reference.
 */
export function compatPreAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  return utf8.encode(`DSSEV1 ${type.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`);
}
