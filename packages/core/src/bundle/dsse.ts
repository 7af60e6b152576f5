// The one DSSE PAE implementation is runtime-neutral; signers and Node
// verifiers import it from here.
export { compatPreAuthEncoding, preAuthEncoding } from '../format/dsse.js';
