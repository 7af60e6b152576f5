// A real RFC 3161 timestamp authority on loopback: sigstore's
// timestamp-server (test-fixtures/go-tools.mjs) with its in-memory signer,
// which makes a throw-away root, intermediate and timestamping leaf at start.
//
// One per machine and user, shared: timestamp-server v2.1.3 always serves its
// metrics on port 2112 of every interface (not configurable) and exits when
// that port is taken, so two cannot run at once, and test files run in
// parallel (vitest workers, and turbo runs packages side by side). The first
// caller starts it, detached; each caller registers itself under a state
// directory in the system's temporary directory; the last to close stops it.
// A lock directory serializes these steps across processes; callers that
// died without closing are pruned by process id.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { goTool } from './go-tools.mjs';
import { answers, isRunning, startServer, stopProcess } from './servers.mjs';

const STATE_DIR = path.join(os.tmpdir(), `model-signing-tsa-${os.userInfo().uid}`);
const LOCK = path.join(STATE_DIR, 'lock');
const SERVER = path.join(STATE_DIR, 'server.json');
const USERS = path.join(STATE_DIR, 'users');

/** Runs `fn` holding the state directory's lock: a file created exclusively, holding the owner's process id. */
async function withLock(fn) {
  await fs.mkdir(USERS, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fs.writeFile(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const [owner, stat] = await Promise.all([fs.readFile(LOCK, 'utf8').catch(() => ''), fs.stat(LOCK).catch(() => undefined)]);
      // An owner that died, or a lock whose owner never wrote its id (a crash right after creating it), is stale.
      const stale = owner ? !isRunning(Number(owner)) : stat !== undefined && Date.now() - stat.mtimeMs > 10_000;
      if (stale) await fs.rm(LOCK, { force: true });
      else if (Date.now() > deadline)
        throw new Error(`timestamp-server's lock ${LOCK} is held by process ${owner || '?'} for over 60 s`, { cause: err });
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(LOCK, { force: true });
  }
}

/** The callers still using the server, after removing those whose process is gone. */
async function liveUsers() {
  const users = [];
  for (const name of await fs.readdir(USERS)) {
    if (isRunning(Number(name.split('-')[0]))) users.push(name);
    else await fs.rm(path.join(USERS, name), { force: true });
  }
  return users;
}

/** Whether `pid` is still the timestamp-server the state names, not a process that reused its id. */
async function isTimestampServer(pid) {
  if (!isRunning(pid)) return false;
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('timestamp-server');
  } catch {
    return process.platform !== 'linux';
  }
}

/** The running shared server, if the state names one that answers. */
async function runningServer() {
  let server;
  try {
    server = JSON.parse(await fs.readFile(SERVER, 'utf8'));
  } catch {
    return undefined;
  }
  if (!(await isTimestampServer(server.pid))) return undefined;
  if (await answers(`${server.base}/ping`)) return server;
  await stopProcess(server.pid);
  return undefined;
}

async function startShared(dir) {
  // A timestamp-server not started through this file (another checkout's tests) holds port 2112 until it ends: wait for it, up to a minute.
  const deadline = Date.now() + 60_000;
  let started;
  while (!started) {
    try {
      started = await startServer({
        name: 'timestamp-server',
        bin: goTool('timestamp-server'),
        // NTP monitoring would query public time servers, which tests must not need.
        args: ([port]) => [
          'serve',
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--timestamp-signer',
          'memory',
          '--disable-ntp-monitoring',
        ],
        logFile: path.join(dir, 'timestamp-server.log'),
        readyUrl: ([port]) => `http://127.0.0.1:${port}/ping`,
        detached: true,
      });
    } catch (err) {
      if (!String(err.message).includes(':2112: bind') || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const { ports, pid, stop } = started;
  const base = `http://127.0.0.1:${ports[0]}`;
  try {
    const response = await fetch(`${base}/api/v1/timestamp/certchain`);
    if (!response.ok) throw new Error(`timestamp-server gave no certificate chain (${response.status})`);
    const server = { pid, base, certificateChainPem: await response.text() };
    await fs.writeFile(SERVER, JSON.stringify(server));
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Starts timestamp-server on a free port of 127.0.0.1, or joins the one
 * already running for this user; when this call starts it, its log goes to
 * `dir/timestamp-server.log`.
 *
 * @returns `url`, the endpoint that takes timestamp requests (as a signing
 *   config lists it); `certificateChainPem`, the authority's chain, leaf
 *   first; and `close()`, which stops the server when no one else uses it.
 */
export async function startTimestampAuthority({ dir }) {
  const me = `${process.pid}-${randomUUID()}`;
  const server = await withLock(async () => {
    const shared = (await runningServer()) ?? (await startShared(dir));
    await fs.writeFile(path.join(USERS, me), '');
    return shared;
  });
  let closed;
  const close = () =>
    (closed ??= withLock(async () => {
      await fs.rm(path.join(USERS, me), { force: true });
      if ((await liveUsers()).length > 0) return;
      if (await isTimestampServer(server.pid)) await stopProcess(server.pid);
      await fs.rm(SERVER, { force: true });
    }));
  return { url: `${server.base}/api/v1/timestamp`, certificateChainPem: server.certificateChainPem, close };
}
