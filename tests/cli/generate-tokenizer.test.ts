// SafeTensors models read their tokenizer from tokenizer.json (+ tokenizer_config.json) in the same file set as their
// weights. The stories260K twin gets the tokenizer.json a Hugging Face Llama repository would hold for its
// SentencePiece vocabulary (tests/support/spm-tokenizer-json.ts), so `--prompt` must give exactly what the GGUF gives:
// the same prompt ids as our llama.cpp-equal GGUF tokenizer, llama.cpp's greedy tokens, and their text streamed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localFileSet } from '../../src/cli/local-file-set.ts';
import { isRbeeError } from '../../src/lib/errors.ts';
import { textForSafetensors } from '../../src/lib/engine/tokenizer-choice.ts';
import type { GgufValue } from '../../src/lib/formats/descriptor.ts';
import { readGguf } from '../../src/lib/formats/gguf.ts';
import { inspectSet } from '../../src/lib/model/inspect.ts';
import { MemoryByteSource } from '../../src/lib/formats/memory-source.ts';
import { tokenizerFromGguf } from '../../src/lib/tokenizer/index.ts';
import { runCli, type CliRun } from '../support/cli-process.ts';
import { fixture, HAS_FIXTURES } from '../support/fixtures.ts';
import { writeSafetensorsTwin } from '../support/safetensors-twin.ts';
import { spmTokenizerFiles } from '../support/spm-tokenizer-json.ts';

const PROMPT = 'Once upon a time';
const PROMPT_IDS = [1, 403, 407, 261, 378];
const GREEDY = [432, 383, 286, 261, 376, 298, 315, 421]; // llama.cpp's greedy continuation of the GGUF
const TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
let dir: string;
let withTokenizer: string;
let withoutTokenizer: string;
let metadata: Record<string, GgufValue>;

/** `rbee-web generate` on rbee-web's WebGPU engine (SwiftShader's verdict would pick the CPU engine). */
const cli = (args: string[]): Promise<CliRun> => runCli(['generate', '--engine', 'webgpu', ...args]);

async function textOf(folder: string) {
  const set = localFileSet(folder);
  const { descriptor } = await inspectSet(set);
  return textForSafetensors(descriptor, set, '');
}

beforeAll(async () => {
  if (!HAS_FIXTURES) return;
  dir = await mkdtemp(join(tmpdir(), 'rbee-cli-tokenizer-'));
  const gguf = fixture('models/stories260K.gguf');
  metadata = (await readGguf(new MemoryByteSource(new Uint8Array(await readFile(gguf)), gguf))).gguf!.metadata;
  withTokenizer = join(dir, 'with-tokenizer');
  withoutTokenizer = join(dir, 'without-tokenizer');
  await writeSafetensorsTwin(gguf, withTokenizer);
  await writeSafetensorsTwin(gguf, withoutTokenizer);
  const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(metadata, TEMPLATE);
  await writeFile(join(withTokenizer, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  await writeFile(join(withTokenizer, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.runIf(HAS_FIXTURES)('SafeTensors text from tokenizer.json', () => {
  test('the folder’s tokenizer.json encodes prompts as the GGUF tokenizer does; chat template and EOS from tokenizer_config.json', async () => {
    const text = await textOf(withTokenizer);
    const gguf = tokenizerFromGguf(metadata);
    expect(text.canEncode).toBe(true);
    expect(text.promptTokens({ text: PROMPT })).toEqual(PROMPT_IDS);
    for (const t of ['Once upon a time, there was a little girl named Lily.', ' two  spaces\nand a newline', 'Ελληνικά 🦙'])
      expect(text.promptTokens({ text: t })).toEqual(gguf.encode(t, { parseSpecial: false }));
    expect(text.bos).toBe(1);
    expect(text.eogTokens).toEqual([2]);
    // The template writes <s> as text and BOS is added too: one BOS, not two.
    const chat = text.promptTokens({ messages: [{ role: 'user', content: 'Hi' }] });
    expect(chat).toEqual(gguf.encode('user: Hi\nassistant:', { parseSpecial: false }));
    const stream = text.stream();
    const streamed = GREEDY.map((id) => stream.push(id)).join('') + stream.flush();
    expect(streamed).toBe(gguf.decode(GREEDY));
    // A continuation that starts with a word keeps its space, as the GGUF tokenizer's stream does.
    const continuation = text.stream();
    expect(GREEDY.slice(1).map((id) => continuation.push(id)).join('') + continuation.flush()).toBe(' there was a little girl');
  });

  test('without tokenizer.json the model runs on ids and a text prompt is a tokenizer error naming the missing file', async () => {
    const text = await textOf(withoutTokenizer);
    expect(text.canEncode).toBe(false);
    expect(text.promptTokens({ tokens: PROMPT_IDS })).toEqual(PROMPT_IDS);
    let caught: unknown;
    try {
      text.promptTokens({ text: PROMPT });
    } catch (e) {
      caught = e;
    }
    expect(isRbeeError(caught) && caught.code).toBe('tokenizer');
    expect((caught as Error).message).toMatch(/no tokenizer\.json/);
    expect(isRbeeError(caught) && caught.hint).toMatch(/--tokens/);
  });

  test('an unreadable tokenizer.json leaves the model on ids with the reason', async () => {
    const broken = join(dir, 'broken-tokenizer');
    await writeSafetensorsTwin(fixture('models/stories260K.gguf'), broken);
    await writeFile(join(broken, 'tokenizer.json'), '{"model": ');
    const text = await textOf(broken);
    expect(text.canEncode).toBe(false);
    expect(() => text.promptTokens({ text: PROMPT })).toThrow(/not valid JSON/);
  });

  test(`rbee-web generate --model <folder> --prompt "${PROMPT}" continues as llama.cpp does on the GGUF, text streamed`, async () => {
    const r = await cli(['--model', withTokenizer, '--prompt', PROMPT, '--max-tokens', '8', '--temperature', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { tokens: number[]; text: string; timings: { promptTokens: number } };
    expect(out.timings.promptTokens).toBe(PROMPT_IDS.length);
    expect(out.tokens).toEqual(GREEDY);
    expect(out.text).toBe(tokenizerFromGguf(metadata).decode(GREEDY));
    expect(out.text.startsWith(', there was a little girl')).toBe(true);
  }, 180_000);

  test('rbee-web generate --prompt on a folder without tokenizer.json exits 1 with the tokenizer error and its hint', async () => {
    const r = await cli(['--model', withoutTokenizer, '--prompt', PROMPT, '--max-tokens', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tokenizer\.json/);
    expect(r.stderr).toMatch(/--tokens/);
  }, 180_000);
});
