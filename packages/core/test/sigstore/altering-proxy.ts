// A loopback HTTP proxy in front of one of the instance's real servers that
// rewrites what passes through it: the request on its way in, the answer on
// its way back. A signing config that names the proxy instead of the server
// gives a Sigstore service that misbehaves in exactly one way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AlteringProxy {
  url: string;
  close(): Promise<void>;
}

export interface Alterations {
  /** Rewrites the request body before it goes to the server. */
  request?(body: Buffer, request: http.IncomingMessage): Buffer | Promise<Buffer>;
  /** Rewrites the server's answer (2xx only) before it goes back to the client. */
  response?(body: Buffer, request: http.IncomingMessage): Buffer | Promise<Buffer>;
}

const FORWARDED = ['content-type', 'accept', 'authorization', 'user-agent'];

/** Forwards every request to `target` (same path and query), applying `alter`. */
export async function startAlteringProxy(target: string, alter: Alterations): Promise<AlteringProxy> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const headers = Object.fromEntries(FORWARDED.flatMap((h) => (req.headers[h] ? [[h, String(req.headers[h])]] : [])));
        const upstream = await fetch(new URL(req.url ?? '/', target), {
          method: req.method ?? 'GET',
          headers,
          ...(req.method === 'GET' || req.method === 'HEAD'
            ? {}
            : { body: new Uint8Array(alter.request ? await alter.request(body, req) : body) }),
        });
        let answer: Buffer = Buffer.from(await upstream.arrayBuffer());
        if (upstream.ok && alter.response) answer = await alter.response(answer, req);
        const type = upstream.headers.get('content-type');
        res.writeHead(upstream.status, type ? { 'Content-Type': type } : {}).end(answer);
      })().catch((err: Error) => res.writeHead(502).end(err.message));
    });
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
