/**
 * What the chat page reads from its URL besides the model (the ModelRef, model/model-ref.ts): `&ctx=<tokens>`.
 */

/**
 * The context length asked for with `&ctx=<tokens>` (the worker still caps it at the model's own): a smaller KV
 * cache for a small GPU, or a quick look at how the chat fits a long conversation. Undefined: the default.
 */
export function contextLengthFromUrl(url: URL): number | undefined {
  const ctx = url.searchParams.get('ctx');
  if (!ctx || !/^\d+$/.test(ctx)) return undefined;
  const n = Number(ctx);
  return n >= 1 ? n : undefined;
}
