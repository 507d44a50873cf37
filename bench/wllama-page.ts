/**
 * Browser side of bench/wllama-peer.ts: runs wllama (llama.cpp compiled to WebAssembly, @wllama/wllama 3.8.1) in the
 * same headless Chromium as rbee-web's worker, on the same GGUF file (fetched from the harness server into a Blob,
 * as a user's dropped file would be), with the same prompt (as text that llama.cpp tokenizes to the same ids) and
 * greedy sampling, and hands back llama.cpp's own timings (llama-server's `timings`: prompt_per_second and
 * predicted_per_second).
 */
import { Wllama } from '@wllama/wllama';

export interface WllamaBenchRequest {
  /** The GGUF on the harness server, fetched into a Blob; absent: the File picked in the page's #model input. */
  modelUrl?: string;
  wasmUrl: string;
  /** 1: the single-threaded baseline; more needs cross-origin isolation (else wllama falls back to 1). */
  threads: number;
  /**
   * The prompt as text: wllama's completion takes only text (its request parser refuses an id array). The caller
   * makes a text that llama.cpp tokenizes to exactly the ids the other engines get (BOS added here, as
   * llama-server does) and checks promptTokens in the answer.
   */
  prompt: string;
  /** Tokens to generate (end-of-generation ignored, so every run generates exactly this many). */
  maxTokens: number;
  contextLength: number;
  /** llama.cpp's own log lines on the page's console (diagnostics). */
  verbose?: boolean;
}

export interface WllamaBenchResult {
  threads: number;
  multithread: boolean;
  crossOriginIsolated: boolean;
  loadSeconds: number;
  /** llama.cpp's prompt_n / prompt_ms: the prompt evaluated in one batch (its last token's logits included). */
  prefillTokensPerSecond: number;
  /** llama.cpp's predicted_n / predicted_ms: generated tokens over the time from the first sample to the last. */
  decodeTokensPerSecond: number;
  promptTokens: number;
  generatedTokens: number;
  text: string;
}

declare global {
  interface Window {
    wllamaBench(request: WllamaBenchRequest): Promise<WllamaBenchResult>;
  }
}

window.wllamaBench = async (r) => {
  const t0 = performance.now();
  const picked = (document.getElementById('model') as HTMLInputElement | null)?.files?.[0];
  const blob = r.modelUrl ? await (await fetch(r.modelUrl)).blob() : picked;
  if (!blob) throw new Error('no model: neither a URL nor a picked file');
  const wllama = new Wllama({ default: r.wasmUrl }, { suppressNativeLog: !r.verbose, allowOffline: true });
  try {
    await wllama.loadModel([blob], { n_ctx: r.contextLength, n_threads: r.threads, n_gpu_layers: 0, n_batch: 512 });
    const loadSeconds = (performance.now() - t0) / 1000;
    const complete = () =>
      wllama.createCompletion({
        prompt: r.prompt,
        max_tokens: r.maxTokens,
        temperature: 0,
        // Passed through to llama-server's request parser: re-evaluate the whole prompt each time (a prefill
        // benchmark), and never stop early, so both engines generate the same number of tokens.
        ...({ cache_prompt: false, ignore_eos: true } as object),
      });
    await complete(); // warm-up, as rbee-web's first run (page-in, allocator)
    const out = await complete();
    const t = out.timings;
    if (!t) throw new Error('wllama returned no timings');
    return {
      threads: wllama.getNumThreads(),
      multithread: wllama.isMultithread(),
      crossOriginIsolated: self.crossOriginIsolated,
      loadSeconds,
      prefillTokensPerSecond: t.prompt_per_second,
      decodeTokensPerSecond: t.predicted_per_second,
      promptTokens: t.prompt_n,
      generatedTokens: t.predicted_n,
      text: out.choices[0]?.text ?? '',
    };
  } finally {
    await wllama.exit().catch(() => undefined);
  }
};
