import { parentPort, workerData } from 'node:worker_threads';
import { ModelSigningError } from '../../errors.js';
import { JobTable } from './job-table.js';
import { ReadBuffers, hashRangeReadingAhead, hashRangeSync } from './read-range.js';
import { SharedQueue, type WorkerMessage, type WorkerSetup } from './shared-queue.js';

// A hashing thread: takes jobs from the shared queue until none is left
// (a big file alone, small files in batches), reads each file itself and
// writes each digest into shared memory, then exits. It posts a message
// only to report a failure.
const setup = workerData as WorkerSetup;
const { algorithm, chunkBytes, cores } = setup;
const table = JobTable.attach(setup.table, setup.jobCount, setup.prefixBytes);
const queue = SharedQueue.attach(setup.shared, setup.digestBytes);
const buffers = new ReadBuffers(chunkBytes);
// Read ahead only while some core is idle: when every core hashes, the
// copy out of the page cache is cheapest on the thread that needs it.
const readAhead = () => queue.busyThreads() < cores;
const onBytes = (n: number) => queue.addBytes(n);

for (let first = queue.takeFront(table, chunkBytes); first >= 0; first = queue.takeFront(table, chunkBytes)) {
  const end = first + queue.taken;
  let position = first;
  queue.setBusy(1);
  try {
    if (queue.taken === 1 && table.bytes(first) > chunkBytes) {
      queue.setDigest(table.id(first), await hashRangeReadingAhead(table.job(first), algorithm, buffers, { readAhead, onBytes }));
    } else {
      let bytes = 0;
      for (; position < end; position++) {
        const job = table.job(position);
        queue.setDigest(table.id(position), hashRangeSync(job, algorithm, buffers));
        bytes += job.end - job.start;
      }
      queue.addBytes(bytes);
    }
    queue.completeJobs(end - first);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    queue.stop();
    const typed = err instanceof ModelSigningError;
    const message: WorkerMessage = { id: table.id(position), message: e.message, ...(e.code ? { code: e.code } : {}), typed };
    parentPort!.postMessage(message);
  } finally {
    queue.setBusy(-1);
  }
}
