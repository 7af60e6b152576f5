export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}
export function startMoto(): Promise<MotoServer>;
