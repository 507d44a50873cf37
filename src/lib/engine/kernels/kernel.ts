/**
 * Kernel: one compute pipeline with an explicit bind group layout, so bind groups made once at load work with every
 * variant of the same op (the matrix-vector and matrix-matrix pipelines of a weight type share one layout).
 * Every kernel's bindings follow one convention: storage buffers first, then `P` (its static parameters, a block of
 * the model's parameter arena, graph.ts) and `S` (the step: first position and token count, rewritten per submission).
 * Both structs come from a params schema (params.ts): the WGSL and the packer declared once.
 */
import { paramsSchema } from './params.ts';

export type BindingKind = 'read' | 'write' | 'uniform';

/** The step every kernel reads as `S`: the first position of the step's tokens and how many there are. */
export const STEP = paramsSchema('Step', { pos0: 'u32', T: 'u32' });

/**
 * The two uniforms a kernel binds after its storage buffers: P, its static parameters (`params`' struct), at
 * `binding`, and S, the step, at binding + 1 — with both structs and the kernel's flag bits as constants.
 */
export function uniformsWgsl(binding: number, params: { readonly name: string; readonly wgsl: string }, flags?: Readonly<Record<string, number>>): string {
  return `@group(0) @binding(${binding}) var<uniform> P: ${params.name};
@group(0) @binding(${binding + 1}) var<uniform> S: ${STEP.name};
${params.wgsl}
${STEP.wgsl}${flags ? `\n${flagsWgsl(flags)}` : ''}`;
}

/** A kernel's flag bits as WGSL constants, from the TS object that packs them (declared once, named in both). */
function flagsWgsl(flags: Readonly<Record<string, number>>): string {
  return Object.entries(flags)
    .map(([name, bit]) => `const ${name} = ${bit}u;`)
    .join('\n');
}

export function createLayout(device: GPUDevice, kinds: BindingKind[]): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    entries: kinds.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: kind === 'read' ? 'read-only-storage' : kind === 'write' ? 'storage' : 'uniform' },
    })),
  });
}

export function createPipeline(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  code: string,
  label: string,
  constants?: Record<string, number>,
): GPUComputePipeline {
  const module = device.createShaderModule({ code, label });
  return device.createComputePipeline({
    label,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main', ...(constants ? { constants } : {}) },
  });
}

/** A buffer range to bind. */
export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export function bindGroup(device: GPUDevice, layout: GPUBindGroupLayout, bindings: Binding[], label?: string): GPUBindGroup {
  return device.createBindGroup({
    ...(label ? { label } : {}),
    layout,
    entries: bindings.map((b, binding) => ({
      binding,
      resource: { buffer: b.buffer, ...(b.offset ? { offset: b.offset } : {}), ...(b.size ? { size: b.size } : {}) },
    })),
  });
}

/** Workgroup-wide sum of `v` over WG invocations through shared memory `red` (WG a power of two). */
export function sumReductionWgsl(name: string, wg: number, op: 'sum' | 'max' = 'sum'): string {
  const combine = op === 'sum' ? 'a + b' : 'max(a, b)';
  return /* wgsl */ `
var<workgroup> red_${name}: array<f32, ${wg}>;
fn ${name}(v: f32, li: u32) -> f32 {
  red_${name}[li] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { let a = red_${name}[li]; let b = red_${name}[li + s]; red_${name}[li] = ${combine}; }
    workgroupBarrier();
  }
  let r = red_${name}[0];
  workgroupBarrier();
  return r;
}`;
}

/** Splits a workgroup count above the per-dimension limit into x·y (kernels rebuild the index as x + y·nx). */
export function grid(count: number, maxPerDim = 65535): [number, number] {
  if (count <= maxPerDim) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / maxPerDim);
  return [Math.ceil(count / y), y];
}
