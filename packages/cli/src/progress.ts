import cliProgress from 'cli-progress';
import type { HashProgress } from '@model-signing/core';

/**
 * A hashing progress bar on stderr, shown only when stderr is a terminal
 * (never in pipes, CI logs or --json output). Returns the callback to pass
 * as `onProgress` and a `stop` to call when hashing ends.
 */
export function hashProgressBar(label: string, enabled: boolean): { onProgress?: (p: HashProgress) => void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {files} files | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (bytes: number) => Math.round(bytes / 1e6);
  return {
    onProgress(p) {
      if (!started) {
        bar.start(Math.max(1, mb(p.totalBytes)), 0, { files: p.files });
        started = true;
      }
      bar.update(mb(p.bytesHashed), { files: p.files });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
