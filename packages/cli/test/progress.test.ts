import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RateEstimator } from '../src/progress.js';
import { cleanupTempDirs, REPO_ROOT, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

describe('RateEstimator', () => {
  it('gives a steady ETA for a steady hash reported in bursts', () => {
    // 100 MB/s on average, reported every 100 ms in uneven bursts (0, 30, 0, 5, 15 MB, …), 4 GB in all.
    const total = 4e9;
    const bursts = [0, 30e6, 0, 5e6, 15e6];
    const estimator = new RateEstimator();
    const etas: number[] = [];
    let done = 0;
    for (let step = 1; done < total * 0.9; step++) {
      done += bursts[step % bursts.length];
      estimator.update(done, step * 100);
      const eta = estimator.etaSeconds(total - done);
      if (step * 100 >= 5000 && eta !== undefined) etas.push(eta);
    }
    // The reported ETA went 4 s → 15 s → 6 s; each one here stays within 5% of the one 100 ms before.
    for (let i = 1; i < etas.length; i++) {
      expect(Math.abs((etas[i] - (etas[i - 1] - 0.1)) / etas[i - 1]), `ETA jumped from ${etas[i - 1]} to ${etas[i]}`).toBeLessThan(0.05);
    }
    expect(estimator.bytesPerSecond()! / 100e6).toBeGreaterThan(0.9);
    expect(estimator.bytesPerSecond()! / 100e6).toBeLessThan(1.1);
  });

  it('follows a real change of speed within seconds', () => {
    const estimator = new RateEstimator();
    let done = 0;
    let ms = 0;
    for (; ms <= 10_000; ms += 250) estimator.update((done += 25e6), ms); // 100 MB/s
    for (; ms <= 30_000; ms += 250) estimator.update((done += 5e6), ms); // then 20 MB/s
    const ratio = estimator.bytesPerSecond()! / 20e6;
    expect(ratio).toBeGreaterThan(0.95);
    expect(ratio).toBeLessThan(1.1);
  });
});

// Ctrl-C in a real terminal: a pseudo-terminal from Python's pty module, the
// CLI hashing a large (sparse) file, then the Ctrl-C byte typed at it.
const PTY_DRIVER = `
import os, pty, re, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out, sent, deadline = b'', False, time.time() + 60
while time.time() < deadline:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent and re.search(rb'\\d MB/s', out):
        time.sleep(0.3)
        os.write(fd, b'\\x03')
        sent = True
try:
    os.kill(pid, 9)  # only if Ctrl-C did not end it (a zombie ignores this)
except ProcessLookupError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stderr.write('signal %d' % os.WTERMSIG(status) if os.WIFSIGNALED(status) else 'exit %d' % os.WEXITSTATUS(status))
`;

describe('progress bar in a terminal', () => {
  it('shows files done of the total, and gives the cursor back on Ctrl-C', async () => {
    const work = await tempDir('oms-progress-');
    const model = path.join(work, 'model');
    await fs.mkdir(model);
    await fs.writeFile(path.join(model, 'config.json'), '{}');
    await fs.truncate(path.join(model, 'config.json'), 2);
    const big = await fs.open(path.join(model, 'weights.bin'), 'w');
    await big.truncate(64e9); // sparse: hashing it takes far longer than the test waits
    await big.close();
    const cli = path.join(REPO_ROOT, 'packages/cli/dist/bin.js');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(
        'python3',
        ['-c', PTY_DRIVER, process.execPath, cli, 'digest', model, '--workers', '1'],
        { maxBuffer: 16 * 1024 * 1024 },
        (_error, out, err) => resolve({ stdout: out, stderr: err }),
      );
    });
    expect(stderr).toBe('signal 2'); // interrupted, not finished or crashed
    const hidden = stdout.indexOf('\x1b[?25l');
    expect(hidden, 'the bar never hid the cursor: no bar was drawn').toBeGreaterThanOrEqual(0);
    expect(stdout.lastIndexOf('\x1b[?25h'), 'the cursor was not shown again').toBeGreaterThan(hidden);
    expect(stdout).toMatch(/Hashing \[.*\] \d+% \| \d+\/64000 MB \| [01]\/2 files \| \d+ MB\/s/);
  }, 90_000);
});
