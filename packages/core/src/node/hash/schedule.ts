/**
 * Opening, reading and closing a file costs about as much as hashing this
 * many bytes (about 15 µs); it makes 20,000 small files weigh what they cost.
 */
export const PER_JOB_COST_BYTES = 32 * 1024;

/**
 * Starting a hashing thread costs about as much as hashing this many bytes
 * (about 40 ms of one core, measured on Node 20). It keeps tiny models on
 * the calling thread, and stops the planner from adding threads that would
 * save less than they cost to start.
 */
export const THREAD_START_COST_BYTES = 64 * 1024 * 1024;

/** The cost of one job, in bytes-hashed equivalents. */
export function jobCost(bytes: number): number {
  return bytes + PER_JOB_COST_BYTES;
}

/**
 * Simulated finish time of `threads` threads that each take the next job
 * (in the given order) when free, while the operating system shares `cores`
 * equally among the threads that are busy. Time is in cost units per core.
 */
export function simulateFinishTime(costs: readonly number[], threads: number, cores: number): number {
  const running: number[] = [];
  let next = 0;
  while (running.length < threads && next < costs.length) running.push(costs[next++]);
  let time = 0;
  while (running.length > 0) {
    const shortest = Math.min(...running);
    time += shortest / Math.min(1, cores / running.length);
    for (let i = running.length - 1; i >= 0; i--) {
      running[i] -= shortest;
      if (running[i] > 0) continue;
      if (next < costs.length) running[i] = costs[next++]!;
      else running.splice(i, 1);
    }
  }
  return time;
}

/** Inputs of {@link planThreads}. */
export interface ThreadPlanInput {
  /** Job costs, largest first: the order in which threads take them. */
  costs: readonly number[];
  cores: number;
  /** Most threads to consider. */
  maxThreads: number;
}

/**
 * How many hashing threads to run: 1 means the calling thread alone. A
 * file's sha256 is one sequential computation, so three 1.5 GB files on two
 * cores leave one core idle for a third of the time if two threads take
 * them in turn. Running one thread per big file instead lets the operating
 * system share the cores fairly and all three finish together. This picks
 * the thread count with the earliest simulated finish, counting each
 * thread's start-up, preferring fewer threads unless more finish 3% sooner.
 */
export function planThreads({ costs, cores, maxThreads }: ThreadPlanInput): number {
  const most = Math.max(1, Math.min(maxThreads, costs.length));
  const total = costs.reduce((sum, c) => sum + c, 0);
  const bound = Math.max(costs[0] ?? 0, total / cores);
  let best = { threads: 1, time: total };
  for (let threads = 2; threads <= most; threads++) {
    const finish = simulateFinishTime(costs, threads, cores);
    const time = finish + (threads * THREAD_START_COST_BYTES) / cores;
    if (time < best.time * 0.97) best = { threads, time };
    // No more threads can finish earlier than this; they would only cost start-up.
    if (finish <= bound * 1.01) break;
  }
  return best.threads;
}
