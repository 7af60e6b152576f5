import fs from 'node:fs';
import path from 'node:path';
import * as actions from '@actions/core';

/** What the step does: sign the model (and maybe upload it), or verify it. */
export type Mode = 'sign' | 'verify';
/** How it signs or verifies: as the CLI's methods. */
export type Method = 'sigstore' | 'key' | 'certificate';

/** The action's inputs, read and checked once (action.yml documents each). */
export interface Inputs {
  mode: Mode;
  modelPath: string;
  signaturePath: string;
  method: Method;
  privateKey?: string;
  password?: string;
  signingCertificate?: string;
  certificateChain: string[];
  publicKey?: string;
  identity?: string;
  identityRegExp?: string;
  identityProvider?: string;
  trustConfig?: string;
  useStaging: boolean;
  ignorePaths: string[];
  ignoreUnsignedFiles: boolean;
  hashAlgorithm: 'sha256' | 'blake2b';
  hfRepo?: string;
  hfToken?: string;
  hfEndpoint?: string;
  hfBranch: string;
  hfCreateRepo: boolean;
}

/** A mistake in the workflow's `with:` block, reported as such. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const optional = (name: string): string | undefined => actions.getInput(name) || undefined;

function oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = actions.getInput(name) || fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InputError(`input ${name} must be one of ${allowed.join(', ')}, not '${value}'`);
  }
  return value as T;
}

/**
 * PEM material from an input: the text itself (from a secret) or a path to a
 * file. Several PEM blocks or paths may be given, one per line, for chains.
 */
function pemList(name: string): string[] {
  const text = actions.getInput(name);
  if (text.includes('-----BEGIN')) return [text];
  return actions.getMultilineInput(name);
}

/** Reads and checks every input; throws {@link InputError} naming the first mistake. */
export function readInputs(): Inputs {
  const mode = oneOf('mode', ['sign', 'verify'] as const, 'sign');
  const method = oneOf('method', ['sigstore', 'key', 'certificate'] as const, 'sigstore');
  const modelPath = actions.getInput('model-path', { required: true });
  // private-key and password come from secrets, which the runner masks in the log; neither is ever printed.
  const inputs: Inputs = {
    mode,
    method,
    modelPath,
    signaturePath: optional('signature') ?? defaultSignaturePath(modelPath),
    privateKey: optional('private-key'),
    password: optional('password'),
    signingCertificate: optional('signing-certificate'),
    certificateChain: pemList('certificate-chain'),
    publicKey: optional('public-key'),
    identity: optional('identity'),
    identityRegExp: optional('identity-regexp'),
    identityProvider: optional('identity-provider'),
    trustConfig: optional('trust-config'),
    useStaging: actions.getBooleanInput('use-staging'),
    ignorePaths: actions.getMultilineInput('ignore-paths'),
    ignoreUnsignedFiles: actions.getBooleanInput('ignore-unsigned-files'),
    // blake3 needs a native module the bundle does not carry; the CLI has it.
    hashAlgorithm: oneOf('hash', ['sha256', 'blake2b'] as const, 'sha256'),
    hfRepo: optional('hf-repo'),
    hfToken: optional('hf-token'),
    hfEndpoint: optional('hf-endpoint'),
    hfBranch: actions.getInput('hf-branch') || 'main',
    hfCreateRepo: actions.getBooleanInput('hf-create-repo'),
  };
  checkInputs(inputs);
  return inputs;
}

/** `model.sig` inside a model directory; beside a single-file model, `<file>.sig`. */
function defaultSignaturePath(modelPath: string): string {
  const isFile = fs.statSync(modelPath, { throwIfNoEntry: false })?.isFile() ?? false;
  return isFile ? `${modelPath}.sig` : path.join(modelPath, 'model.sig');
}

function checkInputs(inputs: Inputs): void {
  const need = (value: unknown, name: string, why: string) => {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) throw new InputError(`input ${name} is required ${why}`);
  };
  const { mode, method } = inputs;
  if (mode === 'sign') {
    if (method !== 'sigstore') need(inputs.privateKey, 'private-key', `to sign with the ${method} method`);
    if (method === 'certificate') need(inputs.signingCertificate, 'signing-certificate', 'to sign with the certificate method');
    return;
  }
  if (inputs.hfRepo !== undefined)
    throw new InputError('input hf-repo applies to mode: sign (verify a downloaded copy of the repo instead)');
  if (method === 'key') need(inputs.publicKey, 'public-key', 'to verify with the key method');
  if (method === 'certificate')
    need(inputs.certificateChain, 'certificate-chain', 'to verify with the certificate method (the trust anchors)');
  if (method === 'sigstore') {
    need(inputs.identityProvider, 'identity-provider', 'to verify with the sigstore method (the OIDC issuer to pin)');
    if ((inputs.identity === undefined) === (inputs.identityRegExp === undefined)) {
      throw new InputError('verifying with the sigstore method needs one of the inputs identity and identity-regexp (the identity to pin)');
    }
  }
}
