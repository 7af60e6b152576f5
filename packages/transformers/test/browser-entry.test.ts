// The browser entry where there is no Cache API (Node has no `caches`, as
// pages on insecure origins have none): refused before any request, with
// transformers.js's env left as it was.
import { env } from '@huggingface/transformers';
import { expect, it } from 'vitest';
import { configureVerifiedLoading } from '../src/browser.js';
import { expectCode, keyPair } from './helpers.js';

it('refuses to start without a Cache API, before any request, leaving env untouched', async () => {
  expect(typeof (globalThis as { caches?: unknown }).caches).toBe('undefined');
  const { verifier } = await keyPair();
  const requested: string[] = [];
  const recordingFetch: typeof fetch = async (input) => {
    requested.push(input instanceof Request ? input.url : input.toString());
    return new Response(null, { status: 404 });
  };
  const before = { ...env };
  const error = await expectCode(
    () => configureVerifiedLoading({ env, repo: 'org/model', revision: 'main', verifier, fetch: recordingFetch }),
    'INVALID_ARGUMENT',
  );
  expect(error.message).toContain('secure contexts');
  expect(requested).toEqual([]);
  expect({ ...env }).toEqual(before);
});
