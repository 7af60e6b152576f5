import cliProgress from 'cli-progress';
import type { HashProgress } from '@model-signing/core';

/** A byte-count progress bar; all methods are no-ops when it is disabled. */
export interface ProgressBar {
  update(bytesDone: number, totalBytes: number, detail?: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr, shown only when stderr is a terminal (never in
 * pipes, CI logs or --json output).
 */
export function createProgressBar(label: string, enabled: boolean): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {detail} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (bytes: number) => Math.round(bytes / 1e6);
  return {
    update(bytesDone, totalBytes, detail = '') {
      if (!started) {
        bar.start(Math.max(1, mb(totalBytes)), 0, { detail });
        started = true;
      }
      bar.setTotal(Math.max(1, mb(totalBytes)));
      bar.update(mb(bytesDone), { detail });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A progress bar fed by core's hashing progress. */
export function hashProgressBar(label: string, enabled: boolean): { onProgress?: (p: HashProgress) => void; stop(): void } {
  const bar = createProgressBar(label, enabled);
  if (!enabled || !process.stderr.isTTY) return { stop: () => bar.stop() };
  const detail = (p: HashProgress) => `${p.files} files` + (p.reusedFiles ? `, ${p.reusedFiles} reused (${Math.round((p.reusedBytes ?? 0) / 1e6)} MB)` : '');
  return { onProgress: (p) => bar.update(p.bytesHashed, p.totalBytes, detail(p)), stop: () => bar.stop() };
}
