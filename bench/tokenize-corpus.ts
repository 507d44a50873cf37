// ~100 KB of mixed text for the tokenizer benchmark and speed test: llama.cpp's vector texts (all scripts, emoji,
// whitespace runs, code) interleaved with seeded random text, repeated until the size is reached.
export function benchmarkText(inputs: string[], randomTexts: string[], bytes = 100_000): string {
  const encoder = new TextEncoder();
  let out = '';
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const piece = (i % 3 === 0 ? inputs[i % inputs.length] : randomTexts[i % randomTexts.length]) + '\n';
    out += piece;
    size += encoder.encode(piece).length;
  }
  return out;
}
