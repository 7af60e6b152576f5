// Starting and stopping the Go-built servers (test-fixtures/go-tools.mjs) on
// loopback for a test: a free port, the process with its output in a log file,
// a wait until it answers over HTTP, and a stop that waits for it to exit. A
// server that exits early or never answers fails the test with the tail of
// its log.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether a process of this id is running. */
export function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Ends the process `pid` (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
export async function stopProcess(pid) {
  const deadline = Date.now() + 5_000;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  while (isRunning(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tail(output) {
  return output.split('\n').slice(-20).join('\n') || '(no output)';
}

// A server the test owns runs under a shell that ends it when its standard
// input closes: when stop() closes it, and when the test process dies in any
// way (a timeout that kills the worker, a crash), so no server outlives its test.
// (A background job's standard input is /dev/null unless redirected, hence fd 3.)
const OWNED = 'exec 3<&0; "$@" </dev/null 3<&- & server=$!; (cat <&3 >/dev/null; kill "$server" 2>/dev/null) & exec 3<&-; wait "$server"';

/**
 * Runs `bin args(ports)` on `ports` free ports, with stdout and stderr
 * appended to `logFile`, and waits until `readyUrl(ports)` answers with a
 * 2xx status. A port taken between choosing it and the server binding it (by
 * another server, or as the local end of some connection) is retried with new
 * ports. A `detached` server outlives this process (for servers shared
 * between test processes).
 *
 * @returns the server's process id, its ports, and `stop()`, which ends it and waits.
 */
export async function startServer({ name, bin, ports: count = 1, args, logFile, readyUrl, timeoutMs = 30_000, detached = false }) {
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(Array.from({ length: count }, freePort));
    try {
      return { ports, ...(await run({ name, bin, args: args(ports), logFile, readyUrl: readyUrl(ports), timeoutMs, detached })) };
    } catch (err) {
      if (!(err.portTaken && attempt < 5)) throw err;
    }
  }
}

async function run({ name, bin, args, logFile, readyUrl, timeoutMs, detached }) {
  const logged = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const log = fs.openSync(logFile, 'a');
  // Either way in a process group of its own, so that a stop can end the group.
  const child = detached
    ? spawn(bin, args, { stdio: ['ignore', log, log], detached: true })
    : spawn('/bin/sh', ['-c', OWNED, 'sh', bin, ...args], { stdio: ['pipe', log, log], detached: true });
  fs.closeSync(log);
  if (detached) child.unref();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (detached) return stopProcess(child.pid);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = fs.readFileSync(logFile, 'utf8').slice(logged);
      throw Object.assign(
        new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before answering on ${readyUrl}:\n${tail(output)}`),
        {
          portTaken: output.includes('address already in use'),
        },
      );
    }
    if (await answers(readyUrl)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} did not answer on ${readyUrl} within ${timeoutMs / 1000} s:\n${tail(fs.readFileSync(logFile, 'utf8').slice(logged))}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid, stop };
}

/** Whether `url` answers a GET with a 2xx status within 2 s. */
export async function answers(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
