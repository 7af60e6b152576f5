// Runs one command and measures it as a user would feel it: wall time, CPU
// time of the whole process tree, and peak resident memory of the tree.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux; /proc reports CPU times in these ticks.
const PAGE_BYTES = 4096;
const POLL_MS = 25;
const GNU_TIME = '/usr/bin/time';

/** CPU seconds (user + system) of this process's waited-for children, from /proc/self/stat. */
function childrenCpuSeconds() {
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 0 is the state; cutime and cstime are fields 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

function parentOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

function residentBytes(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

/**
 * Tracks the summed RSS of a process and all its descendants. Each pid's
 * parent is read once, so a poll costs one readdir plus one small read per
 * process of the tree.
 */
class TreeMemory {
  constructor(rootPid) {
    this.tree = new Set([rootPid]);
    this.parents = new Map();
    this.peakBytes = 0;
  }

  poll() {
    for (const name of fs.readdirSync('/proc')) {
      const code = name.charCodeAt(0);
      if (code < 48 || code > 57) continue;
      const pid = Number(name);
      if (!this.parents.has(pid)) this.parents.set(pid, parentOf(pid));
      if (this.tree.has(this.parents.get(pid))) this.tree.add(pid);
    }
    let sum = 0;
    for (const pid of this.tree) sum += residentBytes(pid);
    this.peakBytes = Math.max(this.peakBytes, sum);
  }
}

const hasGnuTime = fs.existsSync(GNU_TIME);

/**
 * Runs `command` with `args` and returns { wallSeconds, cpuSeconds,
 * peakRssBytes, exitCode, stdout, stderr }. Peak memory is the larger of the
 * polled sum over the process tree and, when GNU time is installed, the
 * kernel's exact peak of the largest single process.
 */
export async function measure(command, args, { cwd, env } = {}) {
  const timeFile = path.join(os.tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const [cmd, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, command, ...args]] : [command, args];
  const cpuBefore = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  const child = spawn(cmd, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const memory = new TreeMemory(child.pid);
  const timer = setInterval(() => memory.poll(), POLL_MS);
  memory.poll();
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  const exitCode = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(timer);
  const cpuSeconds = childrenCpuSeconds() - cpuBefore;
  let peakRssBytes = memory.peakBytes;
  if (hasGnuTime) {
    try {
      peakRssBytes = Math.max(peakRssBytes, Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()) * 1024);
      fs.rmSync(timeFile, { force: true });
    } catch {
      // GNU time writes nothing if the command could not start; the exit code says so.
    }
  }
  return {
    wallSeconds,
    cpuSeconds,
    peakRssBytes,
    exitCode,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

function cpuTimes() {
  const line = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = values[3] + (values[4] ?? 0);
  return { idle, total: values.reduce((a, b) => a + b, 0) };
}

/** Fraction of all CPU time that was busy (not idle) over `ms` milliseconds. */
export async function busyFraction(ms) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
}

/**
 * Waits until other processes leave the machine mostly idle (below
 * `maxBusy`), for at most `maxWaitMs`, so a measurement does not race a
 * compiler or a test run. Returns the busy fraction last seen.
 */
export async function waitForQuiet({ maxBusy = 0.1, maxWaitMs = 20_000, windowMs = 500 } = {}) {
  const deadline = Date.now() + maxWaitMs;
  let busy = await busyFraction(windowMs);
  while (busy > maxBusy && Date.now() < deadline) busy = await busyFraction(windowMs);
  return busy;
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
