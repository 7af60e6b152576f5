/** Throws unless the bundle (JSON text, object, or signature file path) lists its resources in code-point order with a matching subject digest; returns the names in order. */
export function assertCodePointOrder(bundle: string | object): string[];
