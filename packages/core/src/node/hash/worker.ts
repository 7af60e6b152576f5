import { parentPort, workerData } from 'node:worker_threads';
import { ModelSigningError } from '../../errors.js';
import { JobTable } from './job-table.js';
import { ReadBuffers, hashRangeReadingAhead, hashRangeSync } from './read-range.js';
import { SharedQueue, type WorkerMessage, type WorkerSetup } from './shared-queue.js';

// A hashing thread: takes jobs from the shared queue until none is left,
// reads each file itself and writes each digest into shared memory, then
// exits. It posts a message only to report a failure.
const { table: tableBuffer, jobCount, cores, chunkBytes, shared } = workerData as WorkerSetup;
const table = JobTable.attach(tableBuffer, jobCount);
const queue = SharedQueue.attach(shared);
const buffers = new ReadBuffers(chunkBytes);
// Read ahead only while some core is idle: when every core hashes, the
// copy out of the page cache is cheapest on the thread that needs it.
const readAhead = () => queue.busyThreads() < cores;
const onBytes = (n: number) => queue.addBytes(n);

for (let position = queue.takeFront(); position >= 0; position = queue.takeFront()) {
  const id = table.id(position);
  const job = table.job(position);
  queue.setBusy(1);
  try {
    const digest =
      job.end - job.start > chunkBytes
        ? await hashRangeReadingAhead(job, buffers, { readAhead, onBytes })
        : hashRangeSync(job, buffers, onBytes);
    queue.complete(id, digest);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    queue.stop();
    const typed = err instanceof ModelSigningError;
    const message: WorkerMessage = { id, message: e.message, ...(e.code ? { code: e.code } : {}), typed };
    parentPort!.postMessage(message);
  } finally {
    queue.setBusy(-1);
  }
}
