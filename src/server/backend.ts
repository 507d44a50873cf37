/**
 * What runs the jobs behind the companion's HTTP surface: llama.cpp in this process (llama-backend.ts) or a rbee
 * worker elsewhere (proxy-backend.ts). The server owns HTTP, access and the job table; a backend owns generation.
 */
import type { CompanionInfo, InferRequest, JobEvent } from '../lib/companion/protocol.ts';

export type BackendDescription = Omit<CompanionInfo, 'service' | 'version'>;

export interface PreparedJob {
  /**
   * The job's events, generated lazily: nothing runs until the stream is read, and when the reader stops (client gone),
   * the generator's return() runs and generation stops with it. `signal` aborts a job still waiting for the model.
   */
  events(signal: AbortSignal): AsyncGenerator<JobEvent>;
  /** Called when a job is dropped without being read (expired); lets a proxy cancel upstream. */
  discard(): void;
}

export interface CompanionBackend {
  describe(): Promise<BackendDescription>;
  /** Validates what can be checked before streaming (e.g. the prompt fits the context); throws CompanionHttpError. */
  prepare(request: InferRequest, jobId: string): Promise<PreparedJob>;
  close(): Promise<void>;
}
