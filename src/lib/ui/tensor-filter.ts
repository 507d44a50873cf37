/**
 * The tensor table's filter: whitespace-separated terms, every one must match the tensor's name or its type
 * (case-insensitive), so `blk.3 q4_k` finds layer 3's Q4_K tensors. Kept out of the component so it stays cheap
 * on models with thousands of tensors and can be tested without a browser.
 */
import type { TensorInfo } from '../formats/descriptor.ts';

export function filterTensors(tensors: readonly TensorInfo[], query: string): readonly TensorInfo[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return tensors;
  return tensors.filter((t) => {
    const name = t.name.toLowerCase();
    const type = t.typeName.toLowerCase();
    return terms.every((term) => name.includes(term) || type === term);
  });
}
