/**
 * `@model-signing/hf-hub/testing`: a Hugging Face Hub look-alike on
 * loopback, in memory, for your tests (this repository's own use it too).
 * It serves the endpoints the real @huggingface/hub client and
 * transformers.js call: preupload, LFS batch + basic PUT upload, NDJSON
 * commit, tree listing with LFS metadata and `Link` pagination, paths-info,
 * revision info, and resolve with Range. Tests can tamper with its state the
 * way a compromised or buggy hub would, and read its per-file byte counters
 * to prove what was downloaded. Node only; no network beyond 127.0.0.1.
 *
 * ```ts
 * import { FakeHub } from '@model-signing/hf-hub/testing';
 * const hub = await FakeHub.start();
 * hub.createRepo('org/model');
 * // … uploadSignedModel / downloadVerifiedModel / configureVerifiedLoading with hubUrl: hub.url
 * await hub.close();
 * ```
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file as the hub stores it: its bytes and the metadata it lists for them. */
export interface StoredFile {
  data: Buffer;
  /** Git blob SHA-1 of the content (for LFS files, of the pointer on a real hub; here of the content). */
  gitOid: string;
  /** Present for LFS files: the SHA-256 the hub lists (normally of `data`; tests may make it lie). */
  lfs?: { oid: string; size: number };
}

/** One commit of a fake repo: its id, title, date and files. */
export interface FakeRepoCommit {
  oid: string;
  title: string;
  date: string;
  files: Map<string, StoredFile>;
}

/** A fake repo: its commits by id and its branches (name → commit id). */
export interface FakeRepo {
  commits: Map<string, FakeRepoCommit>;
  branches: Map<string, string>;
}

/** Options for {@link FakeHub.start}. */
export interface FakeHubOptions {
  /** Where LFS uploads go, as the real hub hands out storage URLs on another host. */
  lfsUploadBase?: string;
  /** Entries per tree-listing page; small values exercise `Link` pagination. Default 1000. */
  pageSize?: number;
  /** Files at least this large, or whose first bytes contain NUL, go to LFS. Default 1024. */
  lfsThreshold?: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
}

/** Changes for {@link FakeHub.pushCommit}: files to add or replace, paths to delete. */
export interface FakeCommit {
  put?: Record<string, Buffer>;
  delete?: string[];
  title?: string;
}

/**
 * How the hub answers one full (not ranged) download of a file, for tests
 * that make it hostile, broken or slow. Unset fields behave honestly.
 */
export interface PlannedAnswer {
  /** Serve these bytes instead of the file's (its listed metadata stays). */
  data?: Buffer;
  /** Answer with this HTTP error status instead. */
  status?: number;
  /** Destroy the connection after this many body bytes. */
  cutOffAfter?: number;
  /** Wait this long before each 64 KiB chunk, so concurrent downloads overlap. */
  chunkDelayMs?: number;
  /** Redirect (302) there instead, as the real hub sends LFS downloads to a storage host. */
  redirectTo?: string;
}

const CHUNK = 64 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitBlobOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** The fake hub. Start with {@link FakeHub.start}; always {@link FakeHub.close}. */
export class FakeHub {
  /** Every repo by name, with its commits and branches. */
  readonly repos = new Map<string, FakeRepo>();
  /** `<repo>/<path>` → response body bytes written by resolve/raw. */
  private readonly served = new Map<string, number>();
  private readonly lfsStore = new Map<string, Buffer>();
  private readonly cutOffs = new Map<string, number>();
  private readonly plans = new Map<string, (nth: number) => PlannedAnswer | undefined>();
  private readonly fullGets = new Map<string, number>();
  /** Every request, as `METHOD /path?query`. */
  readonly requests: string[] = [];
  /** The hub's base URL, `http://127.0.0.1:<port>`: pass it as `hubUrl` (or `HF_ENDPOINT`). */
  url = '';

  private constructor(
    private readonly server: http.Server,
    private readonly options: Required<Omit<FakeHubOptions, 'token' | 'lfsUploadBase'>> & { token?: string; lfsUploadBase?: string },
  ) {}

  /** Starts a hub on a free loopback port. */
  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const server = http.createServer();
    const hub = new FakeHub(server, {
      pageSize: options.pageSize ?? 1000,
      lfsThreshold: options.lfsThreshold ?? 1024,
      ...(options.token ? { token: options.token } : {}),
      ...(options.lfsUploadBase ? { lfsUploadBase: options.lfsUploadBase } : {}),
    });
    server.on('request', (req, res) => {
      hub.handle(req, res).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, String((err as Error)?.stack ?? err));
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(e.status, { 'Content-Type': 'application/json', ...(e.errorCode ? { 'X-Error-Code': e.errorCode } : {}) });
        res.end(JSON.stringify({ error: e.message }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return hub;
  }

  /** Stops the hub, closing every open connection. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Creates a model repo with the `.gitattributes` the real hub puts in every new repo. */
  createRepo(name: string): void {
    const repo: FakeRepo = { commits: new Map(), branches: new Map() };
    this.repos.set(name, repo);
    const files = new Map<string, StoredFile>();
    const attributes = Buffer.from('*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n');
    files.set('.gitattributes', { data: attributes, gitOid: gitBlobOid(attributes) });
    this.addCommit(repo, 'main', 'initial commit', files);
  }

  /** The head commit id of a branch. */
  head(name: string, branch = 'main'): string {
    return this.repo(name).branches.get(branch)!;
  }

  /** The files at a branch head (live objects: mutating them tampers in place). */
  files(name: string, branch = 'main'): Map<string, StoredFile> {
    const repo = this.repo(name);
    return repo.commits.get(repo.branches.get(branch)!)!.files;
  }

  /** Pushes a commit the way any writer could, with honest metadata for the new bytes. */
  pushCommit(name: string, change: FakeCommit, branch = 'main'): string {
    const repo = this.repo(name);
    const files = new Map(this.files(name, branch));
    for (const [path, data] of Object.entries(change.put ?? {}))
      files.set(path, this.storedFile(data, files.get(path)?.lfs !== undefined || data.length >= this.options.lfsThreshold));
    for (const path of change.delete ?? []) files.delete(path);
    return this.addCommit(repo, branch, change.title ?? 'tamper', files);
  }

  /** Swaps a file's bytes at the head while its listed metadata (size, SHA-256, oid) stays as it was. */
  replaceBytesKeepingMetadata(name: string, path: string, data: Buffer): void {
    const file = this.files(name).get(path);
    if (!file) throw new Error(`no ${path} in ${name}`);
    file.data = data;
  }

  /** The next resolve response for `path` is cut off (socket destroyed) after `afterBytes` body bytes. */
  cutOffNextDownload(name: string, path: string, afterBytes: number): void {
    this.cutOffs.set(`${name}/${path}`, afterBytes);
  }

  /** From now on, the `nth` full download of `path` (counting from 1) is answered as `plan(nth)` says. */
  planDownloads(name: string, path: string, plan: (nth: number) => PlannedAnswer | undefined): void {
    this.plans.set(`${name}/${path}`, plan);
    this.fullGets.delete(`${name}/${path}`);
  }

  /** Full (not ranged) downloads of `path` answered so far. */
  fullDownloads(name: string, path: string): number {
    return this.fullGets.get(`${name}/${path}`) ?? 0;
  }

  /** Body bytes served for one file of a repo, or for all its files. */
  bytesServed(name: string, path?: string): number {
    if (path !== undefined) return this.served.get(`${name}/${path}`) ?? 0;
    let total = 0;
    for (const [key, n] of this.served) if (key.startsWith(`${name}/`)) total += n;
    return total;
  }

  /** Forgets the byte counters and the request log. */
  resetCounters(): void {
    this.served.clear();
    this.requests.length = 0;
  }

  /** The repo `name`, found regardless of letter case, as the real hub resolves repo ids. */
  private repo(name: string): FakeRepo {
    const lower = name.toLowerCase();
    const repo = this.repos.get(name) ?? [...this.repos].find(([key]) => key.toLowerCase() === lower)?.[1];
    if (!repo) throw new HttpError(404, `Repository ${name} not found`, 'RepoNotFound');
    return repo;
  }

  private storedFile(data: Buffer, lfs: boolean): StoredFile {
    return { data, gitOid: gitBlobOid(data), ...(lfs ? { lfs: { oid: sha256(data), size: data.length } } : {}) };
  }

  private addCommit(repo: FakeRepo, branch: string, title: string, files: Map<string, StoredFile>): string {
    const oid = randomBytes(20).toString('hex');
    repo.commits.set(oid, { oid, title, date: new Date().toISOString(), files });
    repo.branches.set(branch, oid);
    return oid;
  }

  private commitAt(repo: FakeRepo, revision: string): FakeRepoCommit {
    const commit = repo.commits.get(repo.branches.get(revision) ?? revision);
    if (!commit) throw new HttpError(404, `Revision ${revision} not found`, 'RevisionNotFound');
    return commit;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    // LFS upload URLs are pre-authorized, like the storage URLs the real hub hands out.
    const preAuthorized = url.pathname.startsWith('/lfs-upload/');
    if (this.options.token && !preAuthorized && req.headers.authorization !== `Bearer ${this.options.token}`) {
      throw new HttpError(401, 'Invalid credentials in Authorization header');
    }
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (segments[0] === 'api' && segments[1] === 'models') return this.handleApi(req, res, url, segments.slice(2));
    if (url.pathname === '/api/repos/create' && req.method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { name: string; organization: string; type: string };
      const name = `${body.organization}/${body.name}`;
      if (body.type !== 'model') throw new HttpError(400, 'Only model repos are supported here');
      if (this.repos.has(name)) throw new HttpError(409, 'You already created this model repo');
      this.createRepo(name);
      return json(res, { url: `${this.url}/${name}`, id: name });
    }
    if (segments[0] === 'lfs-upload' && req.method === 'PUT') return this.handleLfsPut(req, res, segments[1]);
    // Model repos have no type prefix: /{ns}/{name}.git/info/lfs/objects/batch or /{ns}/{name}/resolve|raw/{rev}/{path}
    const [ns, second, kind, revision, ...rest] = segments;
    if (second?.endsWith('.git') && kind === 'info' && req.method === 'POST')
      return this.handleLfsBatch(req, res, `${ns}/${second.slice(0, -4)}`);
    if ((kind === 'resolve' || kind === 'raw') && revision !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      return this.handleResolve(req, res, `${ns}/${second}`, revision, rest.join('/'), kind === 'raw');
    }
    throw new HttpError(404, `No route for ${req.method} ${url.pathname}`);
  }

  private async handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL, segments: string[]): Promise<void> {
    const [ns, repoName, action, revision, ...rest] = segments;
    const name = `${ns}/${repoName}`;
    const repo = this.repo(name);
    if (action === 'preupload' && req.method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { files: { path: string; size: number; sample: string }[] };
      const files = body.files.map((f) => {
        const binary = Buffer.from(f.sample, 'base64').includes(0);
        return { path: f.path, uploadMode: f.size >= this.options.lfsThreshold || binary ? 'lfs' : 'regular', shouldIgnore: false };
      });
      return json(res, { files });
    }
    if (action === 'commit' && req.method === 'POST') return this.handleCommit(req, res, name, repo, revision);
    if (action === 'tree' && req.method === 'GET') return this.handleTree(res, url, this.commitAt(repo, revision), rest.join('/'));
    if (action === 'paths-info' && req.method === 'POST') {
      const commit = this.commitAt(repo, revision);
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { paths: string[]; expand?: boolean };
      const entries = body.paths.flatMap((p) => {
        const file = commit.files.get(p);
        return file ? [this.treeEntry(p, file, commit, body.expand ?? false)] : [];
      });
      return json(res, entries);
    }
    if (action === 'revision' && req.method === 'GET') {
      const commit = this.commitAt(repo, revision);
      return json(res, {
        _id: name,
        id: name,
        sha: commit.oid,
        private: false,
        gated: false,
        downloads: 0,
        likes: 0,
        lastModified: commit.date,
        siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
      });
    }
    throw new HttpError(404, `No API route for ${req.method} ${url.pathname}`);
  }

  private treeEntry(path: string, file: StoredFile, commit: FakeRepoCommit, expand: boolean): Record<string, unknown> {
    return {
      type: 'file',
      path,
      size: file.lfs?.size ?? file.data.length,
      oid: file.gitOid,
      ...(file.lfs ? { lfs: { oid: file.lfs.oid, size: file.lfs.size, pointerSize: 134 } } : {}),
      ...(expand ? { lastCommit: { id: commit.oid, title: commit.title, date: commit.date } } : {}),
    };
  }

  private handleTree(res: http.ServerResponse, url: URL, commit: FakeRepoCommit, folder: string): void {
    const recursive = url.searchParams.get('recursive') === 'true';
    const expand = url.searchParams.get('expand') === 'true';
    const prefix = folder === '' ? '' : `${folder}/`;
    const entries = new Map<string, Record<string, unknown>>();
    for (const [path, file] of commit.files) {
      if (!path.startsWith(prefix)) continue;
      const parts = path.slice(prefix.length).split('/');
      // Every directory on the way is an entry of its own, as on the real hub.
      for (let depth = 1; depth < parts.length && (recursive || depth === 1); depth++) {
        const dir = prefix + parts.slice(0, depth).join('/');
        entries.set(dir, { type: 'directory', path: dir, size: 0, oid: createHash('sha1').update(dir).digest('hex') });
      }
      if (recursive || parts.length === 1) entries.set(path, this.treeEntry(path, file, commit, expand));
    }
    const sorted = [...entries.keys()].sort().map((k) => entries.get(k)!);
    const cursor = Number(url.searchParams.get('cursor') ?? '0');
    const page = sorted.slice(cursor, cursor + this.options.pageSize);
    const headers: http.OutgoingHttpHeaders = {};
    if (cursor + this.options.pageSize < sorted.length) {
      const next = new URL(url);
      next.searchParams.set('cursor', String(cursor + this.options.pageSize));
      headers['Link'] = `<${next.href}>; rel="next"`;
    }
    json(res, page, headers);
  }

  private async handleLfsBatch(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    this.repo(name);
    const body = JSON.parse((await readBody(req)).toString('utf8')) as {
      operation: string;
      transfers: string[];
      objects: { oid: string; size: number }[];
    };
    if (body.operation !== 'upload' || !body.transfers.includes('basic')) throw new HttpError(422, 'Only basic uploads are supported');
    const objects = body.objects.map((o) =>
      this.lfsStore.has(o.oid)
        ? { oid: o.oid, size: o.size }
        : { oid: o.oid, size: o.size, actions: { upload: { href: `${this.options.lfsUploadBase ?? this.url}/lfs-upload/${o.oid}` } } },
    );
    res.writeHead(200, { 'Content-Type': 'application/vnd.git-lfs+json' });
    res.end(JSON.stringify({ transfer: 'basic', objects }));
  }

  private async handleLfsPut(req: http.IncomingMessage, res: http.ServerResponse, oid: string): Promise<void> {
    const data = await readBody(req);
    if (sha256(data) !== oid) throw new HttpError(400, `LFS object does not match its oid ${oid}`);
    this.lfsStore.set(oid, data);
    res.writeHead(200).end();
  }

  private async handleCommit(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    repo: FakeRepo,
    branch: string,
  ): Promise<void> {
    const head = repo.branches.get(branch);
    if (!head) throw new HttpError(404, `Branch ${branch} not found`, 'RevisionNotFound');
    const files = new Map(repo.commits.get(head)!.files);
    let title = 'commit';
    for (const line of (await readBody(req)).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const { key, value } = JSON.parse(line) as { key: string; value: Record<string, unknown> };
      if (key === 'header') {
        title = typeof value['summary'] === 'string' ? value['summary'] : title;
        if (value['parentCommit'] && value['parentCommit'] !== head)
          throw new HttpError(412, 'A commit has happened since; parentCommit is stale');
      } else if (key === 'file') {
        files.set(String(value['path']), this.storedFile(Buffer.from(String(value['content']), 'base64'), false));
      } else if (key === 'lfsFile') {
        const data = this.lfsStore.get(String(value['oid']));
        if (!data) throw new HttpError(422, `LFS object ${String(value['oid'])} was never uploaded`);
        files.set(String(value['path']), this.storedFile(data, true));
      } else if (key === 'deletedFile') {
        files.delete(String(value['path']));
      } else {
        throw new HttpError(400, `Unknown commit line ${key}`);
      }
    }
    const oid = this.addCommit(repo, branch, title, files);
    json(res, { commitOid: oid, commitUrl: `${this.url}/${name}/commit/${oid}`, hookOutput: '' });
  }

  private async handleResolve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    revision: string,
    path: string,
    raw: boolean,
  ): Promise<void> {
    const commit = this.commitAt(this.repo(name), revision);
    const file = commit.files.get(path);
    if (!file) throw new HttpError(404, `Entry ${path} not found`, 'EntryNotFound');
    const key = `${name}/${path}`;
    let plan: PlannedAnswer | undefined;
    if (req.method === 'GET' && req.headers.range === undefined) {
      const nth = (this.fullGets.get(key) ?? 0) + 1;
      this.fullGets.set(key, nth);
      plan = this.plans.get(key)?.(nth);
    }
    if (plan?.status !== undefined) throw new HttpError(plan.status, `Planned failure of ${path}`);
    if (plan?.redirectTo !== undefined) {
      res.writeHead(302, { Location: plan.redirectTo }).end();
      return;
    }
    const pointer =
      file.lfs && raw
        ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${file.lfs.oid}\nsize ${file.lfs.size}\n`)
        : undefined;
    const body = plan?.data ?? pointer ?? file.data;
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      ETag: `"${file.lfs && !raw ? file.lfs.oid : file.gitOid}"`,
      'X-FakeRepo-FakeRepoCommit': commit.oid,
      ...(file.lfs && !raw ? { 'X-Linked-ETag': `"${file.lfs.oid}"`, 'X-Linked-Size': String(file.lfs.size) } : {}),
    };
    let start = 0;
    let end = body.length; // exclusive
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]) + 1, body.length) : body.length;
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${body.length}`;
    }
    headers['Content-Length'] = String(end - start);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const plannedCutOff = plan?.cutOffAfter;
    const cutOff = plannedCutOff ?? (status === 200 ? this.cutOffs.get(key) : undefined);
    if (plannedCutOff === undefined && cutOff !== undefined) this.cutOffs.delete(key);
    for (let pos = start; pos < end;) {
      if (plan?.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, plan.chunkDelayMs));
      if (res.destroyed) return;
      const take = Math.min(CHUNK, end - pos, cutOff === undefined ? Infinity : Math.max(cutOff - (pos - start), 0));
      if (take === 0) {
        res.socket?.destroy();
        return;
      }
      const ok = res.write(body.subarray(pos, pos + take));
      pos += take;
      this.served.set(key, (this.served.get(key) ?? 0) + take);
      if (!ok && res.writableNeedDrain) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            res.off('drain', resume).off('close', resume);
            resolve();
          };
          res.on('drain', resume).on('close', resume);
        });
      }
      if (res.destroyed) return;
    }
    res.end();
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const length = Number(req.headers['content-length']);
  if (Number.isSafeInteger(length)) {
    // One allocation of the announced size: large uploads are not held twice.
    const body = Buffer.allocUnsafe(length);
    let offset = 0;
    for await (const chunk of req) {
      if (offset + (chunk as Buffer).length > length) throw new HttpError(400, 'Body longer than Content-Length');
      offset += (chunk as Buffer).copy(body, offset);
    }
    if (offset !== length) throw new HttpError(400, 'Body shorter than Content-Length');
    return body;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: http.ServerResponse, value: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}
