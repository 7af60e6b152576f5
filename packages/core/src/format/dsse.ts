/**
 * DSSE v1 pre-authentication encodings, runtime-neutral (no Buffer): the
 * exact bytes a DSSE signature covers, for every signer and verifier.
 */

const utf8 = new TextEncoder();

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

function preAuthHeader(payloadType: string, payloadBytes: number): Uint8Array {
  return utf8.encode(`DSSEv1 ${utf8.encode(payloadType).length} ${payloadType} ${payloadBytes} `);
}

/** Payloads made by {@link reservePayload}: their PAE, and the type it was made for. */
const builtIn = new WeakMap<Uint8Array, { pae: Uint8Array; payloadType: string }>();

/** Room for a payload of up to some size, placed after room for its PAE header. */
export interface ReservedPayload {
  /** Where to write the payload: at most the reserved size. */
  into: Uint8Array;
  /** The payload, once its first `payloadBytes` bytes are written into {@link into}. */
  finish(payloadBytes: number): Uint8Array;
}

/**
 * Room for a payload of at most `maxBytes` bytes with room before it for
 * its PAE header (whose length field is known only once the payload is):
 * {@link preAuthEncoding} then returns the PAE around the payload without
 * copying it. A manifest of a million files is a 150 MB payload, built
 * when signing and decoded from base64 when verifying.
 */
export function reservePayload(payloadType: string, maxBytes: number): ReservedPayload {
  const room = preAuthHeader(payloadType, maxBytes).length;
  const buffer = new Uint8Array(room + maxBytes);
  return {
    into: buffer.subarray(room),
    finish(payloadBytes) {
      if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > maxBytes) {
        throw new RangeError(`A payload of ${payloadBytes} bytes does not fit the ${maxBytes} reserved`);
      }
      const header = preAuthHeader(payloadType, payloadBytes);
      buffer.set(header, room - header.length);
      const payload = buffer.subarray(room, room + payloadBytes);
      builtIn.set(payload, { pae: buffer.subarray(room - header.length, room + payloadBytes), payloadType });
      return payload;
    },
  };
}

/** `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in bytes, in decimal. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const own = builtIn.get(payload);
  if (own?.payloadType === payloadType) return own.pae;
  return concat(preAuthHeader(payloadType, payload.length), payload);
}

/** What Python's `repr(bytes)` writes for each byte value (ASCII, so one byte per character). */
const REPR: readonly Uint8Array[] = Array.from({ length: 256 }, (_, byte) =>
  utf8.encode(
    byte === 0x5c
      ? '\\\\'
      : byte === 0x27
        ? "\\'"
        : byte === 0x09
          ? '\\t'
          : byte === 0x0a
            ? '\\n'
            : byte === 0x0d
              ? '\\r'
              : byte < 0x20 || byte >= 0x7f
                ? `\\x${byte.toString(16).padStart(2, '0')}`
                : String.fromCharCode(byte),
  ),
);

/**
 * Python's `repr(bytes)` as bytes, written into one array sized for the
 * worst case (4 bytes per input byte) so time and memory stay linear in the
 * payload, which is unsigned when this runs.
 */
function pythonBytesRepr(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length * 4 + 3);
  out[0] = 0x62; // b
  out[1] = 0x27; // '
  let n = 2;
  for (let i = 0; i < data.length; i++) {
    const escaped = REPR[data[i]];
    for (let k = 0; k < escaped.length; k++) out[n++] = escaped[k]!;
  }
  out[n++] = 0x27;
  return out.subarray(0, n);
}

/**
 * The faulty PAE that model_signing v0.2 signed over (`DSSEV1` and the Python
 * `repr` of the payload; docs in shared/oms/format.md §7). Only a fallback
 * when verifying, so v0.2 signatures keep verifying as with the reference.
 */
export function compatPreAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  return concat(utf8.encode(`DSSEV1 ${type.length} ${payloadType} ${payload.length} `), pythonBytesRepr(payload));
}
