// The action's entry (action.yml runs the bundle of this file, dist/main.js):
// read the inputs, sign or verify, and fail the step with one line saying
// what failed, as the CLI does.
import * as actions from '@actions/core';
import { ModelSigningError } from '@model-signing/core';
import { InputError, readInputs } from './inputs.js';
import { sign, verify } from './run.js';

async function main(): Promise<void> {
  let mode = 'sign';
  try {
    const inputs = readInputs();
    mode = inputs.mode;
    await (inputs.mode === 'sign' ? sign(inputs) : verify(inputs));
  } catch (err) {
    const what = mode === 'sign' ? 'Signing' : 'Verification';
    if (err instanceof InputError) actions.setFailed(`Usage error: ${err.message}`);
    else if (err instanceof ModelSigningError) actions.setFailed(`${what} failed [${err.code}]: ${err.message}`);
    else actions.setFailed(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

await main();
