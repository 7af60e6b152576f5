/** The browser harness itself: real Chromium, secure context, and no Node built-ins in page bundles. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, startBrowser, type BrowserHarness } from './harness.js';

const page = (name: string) => new URL(`./page/${name}`, import.meta.url).pathname;

describe('browser harness', () => {
  it('refuses to bundle page code that imports a Node built-in', async () => {
    await expect(bundleForBrowser([page('uses-node.ts')])).rejects.toThrow(/Node built-in "node:crypto" imported by .*uses-node\.ts/);
  });

  it('bundles the published browser entries (dist) for the browser', async () => {
    const dist = (f: string) => new URL(`../../dist/${f}`, import.meta.url).pathname;
    const files = await bundleForBrowser([dist('browser.js'), dist('browser/hash-worker.js')]);
    expect(files.has('browser.js') && files.has('hash-worker.js')).toBe(true);
  });

  describe('in Chromium', () => {
    let browser: BrowserHarness;
    beforeAll(async () => {
      browser = await startBrowser({ entry: page('hash-page.ts') });
    });
    afterAll(() => browser?.close());

    it('serves the page from loopback as a secure context with WebCrypto', async () => {
      expect(browser.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const env = await browser.page.evaluate(() => ({
        secure: globalThis.isSecureContext,
        subtle: typeof globalThis.crypto?.subtle?.digest,
        node: typeof (globalThis as { process?: unknown }).process,
        ua: navigator.userAgent,
      }));
      expect(env).toMatchObject({ secure: true, subtle: 'function', node: 'undefined' });
      expect(env.ua).toMatch(/HeadlessChrome\//);
    });
  });
});
