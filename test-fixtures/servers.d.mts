/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number>;
/** Whether a process of this id is running. */
export function isRunning(pid: number): boolean;
/** Ends the process `pid` (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
export function stopProcess(pid: number): Promise<void>;
/** Whether `url` answers a GET with a 2xx status within 2 s. */
export function answers(url: string): Promise<boolean>;
/** Runs a server with its output in `logFile` and waits until `readyUrl` answers with a 2xx status; a `detached` one outlives this process. */
export function startServer(options: {
  name: string;
  bin: string;
  args: string[];
  logFile: string;
  readyUrl: string;
  timeoutMs?: number;
  detached?: boolean;
}): Promise<{ pid: number; stop(): Promise<void> }>;
