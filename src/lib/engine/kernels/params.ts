/**
 * A kernel's uniform parameters declared once: the schema writes both the WGSL struct the shader reads and the packer
 * the host fills it with, so the two cannot drift. Fields are 4-byte scalars (u32 or f32) in declaration order, each
 * at 4 × its index — WGSL's layout for a struct of 4-byte scalars — and the struct is padded with `_padN: u32` fields
 * to a multiple of 16 bytes (a uniform block is bound in 16-byte rows; the arena hands out whole blocks anyway).
 *
 * Names: the TypeScript keys are camelCase (`rowBytes`), the WGSL fields their snake_case spelling (`row_bytes`):
 * an underscore goes before each capital that follows a lower-case letter or digit and the capital is lowered, so
 * `n4`, `eps` and `T` read the same in both.
 *
 *   const RMSNORM_PARAMS = paramsSchema('Params', { n4: 'u32', eps: 'f32', flags: 'u32' });
 *   RMSNORM_PARAMS.wgsl   // struct Params { n4: u32, eps: f32, flags: u32, _pad0: u32 }
 *   RMSNORM_PARAMS.pack({ n4: 16, eps: 1e-5, flags: 0 })   // 16 bytes; a missing or unknown key is a type error
 */
import { RbeeError } from '../../errors.ts';

export type ParamType = 'u32' | 'f32';
export type ParamFields = Readonly<Record<string, ParamType>>;

/** The values `pack` takes: every field, except that fields with a default may be left out. */
export type ParamValues<F extends ParamFields, D extends keyof F = never> = { [K in Exclude<keyof F, D>]: number } & { [K in D]?: number };

export interface ParamsSchema<F extends ParamFields, D extends keyof F = never> {
  /** The WGSL struct's name (`Params` for a kernel's static parameters, `Step` for the per-submission step). */
  readonly name: string;
  readonly fields: F;
  /** The WGSL struct declaration. */
  readonly wgsl: string;
  /** Byte offset of each field (4 × its index). */
  readonly offsets: { readonly [K in keyof F]: number };
  /** The struct's size in bytes, padding included (a multiple of 16). */
  readonly byteLength: number;
  /** The fields' bytes, little-endian as the GPU reads them: into `target` (reused per step) or a new buffer. */
  pack(values: ParamValues<F, D>, target?: ArrayBuffer): ArrayBuffer;
}

/** camelCase → the WGSL field's snake_case (`rowBytes` → `row_bytes`, `nExcluded` → `n_excluded`, `T` → `T`). */
export function wgslFieldName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, (_, before: string, capital: string) => `${before}_${capital.toLowerCase()}`);
}

const UNIFORM_ROW_BYTES = 16;
const U32_LIMIT = 2 ** 32;

/**
 * The schema of a uniform struct `name` with `fields` (key order is field order). `defaults`: values of fields a
 * caller may leave out of `pack` (unlisted fields must always be given).
 */
export function paramsSchema<const F extends ParamFields, const D extends Partial<Record<keyof F, number>> = Record<never, number>>(
  name: string,
  fields: F,
  defaults?: D,
): ParamsSchema<F, keyof D & keyof F> {
  const keys = Object.keys(fields) as (keyof F & string)[];
  const byteLength = Math.ceil((keys.length * 4) / UNIFORM_ROW_BYTES) * UNIFORM_ROW_BYTES;
  const padding = Array.from({ length: byteLength / 4 - keys.length }, (_, i) => `_pad${i}: u32`);
  const declared = [...keys.map((k) => `${wgslFieldName(k)}: ${fields[k]}`), ...padding];
  const offsets = Object.fromEntries(keys.map((k, i) => [k, 4 * i])) as { [K in keyof F]: number };
  const wgsl = `struct ${name} { ${declared.join(', ')} }`;
  return {
    name,
    fields,
    wgsl,
    offsets,
    byteLength,
    pack(values, target = new ArrayBuffer(byteLength)) {
      const view = new DataView(target, 0, byteLength);
      const given = values as Record<string, number | undefined>;
      keys.forEach((key, i) => {
        const v = given[key] ?? (defaults as Record<string, number | undefined> | undefined)?.[key];
        if (v === undefined) throw new RbeeError('internal', `${name}.${key} was not given.`);
        if (fields[key] === 'f32') view.setFloat32(4 * i, v, true);
        else if (Number.isInteger(v) && v >= 0 && v < U32_LIMIT) view.setUint32(4 * i, v, true);
        // A u32 that is negative or fractional is a caller's bug a Uint32Array would have wrapped or truncated silently.
        else throw new RbeeError('internal', `${name}.${key} is a u32; ${v} is not.`);
      });
      for (let o = keys.length * 4; o < byteLength; o += 4) view.setUint32(o, 0, true);
      return target;
    },
  };
}

/** What a schema's `pack` takes (for a packer's signature). */
export type ParamsOf<S> = S extends ParamsSchema<infer F, infer D> ? ParamValues<F, D> : never;
