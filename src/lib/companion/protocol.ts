/**
 * The rbee worker protocol as rbee's own workers speak it (rbee-keeper/rbee, llm-worker-rbee), plus the one route the
 * rbee-web companion adds (/v1/info). Shared by the browser client, the companion server and its proxy backend, so the
 * three cannot drift apart.
 */

/** rbee-hive's default port: GET /health → "ok", GET /v1/heartbeats/stream → SSE heartbeats listing the workers. */
export const HIVE_PORT = 7835;
/** `rbee-web companion`'s default port (a worker-protocol server that browsers may call). */
export const COMPANION_PORT = 7855;

/** POST /v1/jobs body. rbee's worker requires `operation: "infer"`; hive_id and model are routing hints. */
export interface InferRequest {
  operation: 'infer';
  hive_id?: string;
  model?: string;
  prompt: string;
  max_tokens: number;
  temperature: number;
  top_p?: number;
  top_k?: number;
}

/** POST /v1/jobs answer: the stream is read from `sse_url` (relative to the worker), once. */
export interface JobCreated {
  job_id: string;
  sse_url: string;
}

/** One `data:` line of a job stream (the stream ends with `data: [DONE]`, which is not JSON). */
export type JobEvent =
  | { type: 'started'; job_id?: string; model?: string; prompt_tokens?: number; [extra: string]: unknown }
  | { type: 'token'; t: string; i: number }
  | { type: 'error'; code: string; message: string };

export const STREAM_DONE = '[DONE]';

/** GET /v1/info on a companion (a plain rbee worker has no such route). */
export interface CompanionInfo {
  service: 'rbee-web-companion';
  version: string;
  /** 'llama': runs the model itself with llama.cpp; 'proxy': forwards to a rbee worker. */
  mode: 'llama' | 'proxy';
  /** What the user recognises the model by (the file name without .gguf, or the worker's model id). */
  model: string;
  /** Where the model runs: cpu, cuda, metal, vulkan, or what the upstream worker reports. */
  backend: string;
  threads?: number;
  context_size?: number;
  /** The model's chat template (GGUF tokenizer.chat_template, Jinja), so the app can turn a conversation into a prompt. */
  chat_template?: string;
  bos_token?: string;
  eos_token?: string;
  /** Proxy mode: the worker the jobs go to. */
  upstream?: string;
  /** True while a job is generating; tokens_generated counts every token the backend produced since start. */
  busy: boolean;
  tokens_generated: number;
}

/** The error body every non-2xx companion answer carries. */
export interface CompanionErrorBody {
  error: string;
  message: string;
  /** What the client can do about it (the companion sends one for refusals a user can act on). */
  hint?: string;
}
