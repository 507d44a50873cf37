/**
 * Every SafeTensors dtype (the `Dtype` enum of huggingface/safetensors), with its width in bits and the ggml type id
 * it corresponds to where ggml has one.
 *
 * Convention for dtypes ggml has no type for (unsigned ints, BOOL, the FP8/FP6/FP4 formats, complex): the tensor's
 * `type` is SAFETENSORS_NO_GGML_TYPE (-1) and its `typeName` is the SafeTensors dtype name itself ('U8', 'F8_E4M3'),
 * so the UI still shows what it is and the compatibility check sees a type it cannot run.
 */
export interface SafetensorsDtype {
  readonly name: string;
  /** Bits per element (the sub-byte float formats pack 4 or 6 bits). */
  readonly bits: number;
  /** ggml type id, or SAFETENSORS_NO_GGML_TYPE. */
  readonly ggmlType: number;
}

export const SAFETENSORS_NO_GGML_TYPE = -1;

const d = (name: string, bits: number, ggmlType = SAFETENSORS_NO_GGML_TYPE): SafetensorsDtype => ({ name, bits, ggmlType });

export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = [
  d('BOOL', 8),
  d('F4', 4), // MX FP4 (E2M1) values, two per byte
  d('F6_E2M3', 6),
  d('F6_E3M2', 6),
  d('U8', 8),
  d('I8', 8, 24),
  d('F8_E5M2', 8),
  d('F8_E4M3', 8),
  d('F8_E8M0', 8), // MX block scales
  d('I16', 16, 25),
  d('U16', 16),
  d('F16', 16, 1),
  d('BF16', 16, 30),
  d('I32', 32, 26),
  d('U32', 32),
  d('F32', 32, 0),
  d('C64', 64), // complex64: two F32
  d('F64', 64, 28),
  d('I64', 64, 27),
  d('U64', 64),
];

const BY_NAME = new Map(SAFETENSORS_DTYPES.map((t) => [t.name, t]));

export function safetensorsDtype(name: string): SafetensorsDtype | undefined {
  return BY_NAME.get(name);
}
