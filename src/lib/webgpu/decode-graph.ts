/**
 * The decode graph: one token a step (T = 1).
 */
import type { GraphContext } from './graph.ts';
import type { Graph } from './model.ts';
import { buildPrefillGraph } from './prefill-graph.ts';

export function buildDecodeGraph(c: GraphContext): Graph {
  return buildPrefillGraph(c);
}
