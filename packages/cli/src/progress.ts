import { createRequire } from 'node:module';
import type { HashProgress } from '@model-signing/core';

/**
 * cli-progress, loaded only when a bar is shown: importing it took tens of
 * milliseconds at every start (`--version`, scripted runs, `verify
 * --trust-cache`) for a bar that only terminals display.
 */
function loadCliProgress(): typeof import('cli-progress') {
  return createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
}

/** A byte-count progress bar; all methods are no-ops when it is disabled. */
export interface ProgressBar {
  /** `detail` is shown after the byte counts, e.g. "3/10 files". */
  update(bytesDone: number, totalBytes: number, detail?: string): void;
  stop(): void;
}

/**
 * Throughput smoothed by an exponential moving average over a few seconds.
 * Hashing reports in bursts (threads start, the page cache helps one file
 * and not the next), so the instantaneous rate jumps; an ETA from it read
 * 4 s, 15 s, 6 s on a steady hash.
 */
export class RateEstimator {
  private last: { ms: number; bytes: number } | undefined;
  private rate: number | undefined;

  /** @param timeConstantMs how quickly the estimate follows a real change of speed. */
  constructor(private readonly timeConstantMs = 5000) {}

  /** Records that `bytes` were done in total at time `ms`. */
  update(bytes: number, ms: number): void {
    if (this.last === undefined) {
      this.last = { ms, bytes };
      return;
    }
    const elapsed = ms - this.last.ms;
    // Samples closer than this say more about timer jitter than about speed.
    if (elapsed < 500) return;
    const instant = ((bytes - this.last.bytes) / elapsed) * 1000;
    const weight = 1 - Math.exp(-elapsed / this.timeConstantMs);
    this.rate = this.rate === undefined ? instant : this.rate + weight * (instant - this.rate);
    this.last = { ms, bytes };
  }

  /** Bytes per second, once two samples are far enough apart. */
  bytesPerSecond(): number | undefined {
    return this.rate;
  }

  /** Seconds left for `remainingBytes` at the smoothed rate. */
  etaSeconds(remainingBytes: number): number | undefined {
    return this.rate === undefined || this.rate <= 0 ? undefined : remainingBytes / this.rate;
  }
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return '…';
  const s = Math.round(seconds);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A progress bar on stderr, shown only when stderr is a terminal (never in
 * pipes, CI logs or --json output). It hides the cursor while it runs, so it
 * restores the terminal however the process ends: `stop()`, an error that
 * skipped it, or Ctrl-C (the signal is then re-raised, so the exit status
 * still says the process was interrupted).
 */
export function createProgressBar(label: string, enabled: boolean): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {detail} | {rate} MB/s | ETA {eta}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const rate = new RateEstimator();
  let started = false;
  const mb = (bytes: number) => Math.round(bytes / 1e6);
  const restore = () => {
    if (!started) return;
    started = false;
    bar.stop();
    process.off('exit', restore);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.kill(process.pid, signal);
  };
  return {
    update(bytesDone, totalBytes, detail = '') {
      rate.update(bytesDone, performance.now());
      const speed = rate.bytesPerSecond();
      const payload = {
        detail,
        rate: speed === undefined ? '…' : (speed / 1e6).toFixed(0),
        eta: formatEta(rate.etaSeconds(totalBytes - bytesDone)),
      };
      if (!started) {
        bar.start(Math.max(1, mb(totalBytes)), 0, payload);
        started = true;
        process.on('exit', restore);
        for (const signal of SIGNALS) process.once(signal, onSignal);
      }
      bar.setTotal(Math.max(1, mb(totalBytes)));
      bar.update(mb(bytesDone), payload);
    },
    stop: restore,
  };
}

/** "3/10 files", or "3/40 shards" when files are split into shards. */
export function hashedCount(p: HashProgress): string {
  return `${p.resourcesHashed}/${p.resources} ${p.resources === p.files ? 'files' : 'shards'}`;
}

/** A progress bar fed by core's hashing progress. */
export function hashProgressBar(label: string, enabled: boolean): { onProgress?: (p: HashProgress) => void; stop(): void } {
  const bar = createProgressBar(label, enabled);
  if (!enabled || !process.stderr.isTTY) return { stop: () => bar.stop() };
  const detail = (p: HashProgress) =>
    hashedCount(p) + (p.reusedFiles ? `, ${p.reusedFiles} reused (${Math.round((p.reusedBytes ?? 0) / 1e6)} MB)` : '');
  return { onProgress: (p) => bar.update(p.bytesHashed, p.totalBytes, detail(p)), stop: () => bar.stop() };
}
