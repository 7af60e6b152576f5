/**
 * DSSE v1 pre-authentication encoding: the exact bytes that are signed.
 * `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([header, payload]);
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
 * The faulty PAE that model_signing v0.2 signed over (`DSSEV1` and the
 * Python `repr` of the payload). Used only as a fallback when verifying, so
 * v0.2 signatures keep verifying as they do with the reference.
 */
export function compatPreAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.from(`DSSEV1 ${type.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`, 'utf8');
}
