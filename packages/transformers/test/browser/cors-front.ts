// A front for the loopback hub that answers as huggingface.co does for pages
// of other origins: every response carries `Access-Control-Allow-Origin: *`
// and preflights are allowed. Everything else goes to the hub unchanged, so
// its request log still shows what the page asked for.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, HEAD',
  'access-control-expose-headers': '*',
};

/** A CORS front. */
export interface CorsFront {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash, like `FakeHub.url`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a front on 127.0.0.1 that forwards to `target` (an http URL without a trailing slash). */
export async function startCorsFront(target: string): Promise<CorsFront> {
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS_HEADERS).end();
      return;
    }
    const upstream = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...CORS_HEADERS });
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
