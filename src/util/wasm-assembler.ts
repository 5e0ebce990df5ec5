/**
 * Just enough of the WebAssembly binary format to assemble the media path's small SIMD kernels
 * at start-up: one memory, functions of type () → () that read and write it at fixed offsets.
 * A kernel of a few hundred instructions stays readable as the TypeScript that emits it, and
 * no binary or toolchain has to ship with the project.
 *
 * Opcodes are from the WebAssembly core specification (2.0, which includes fixed-width SIMD).
 */
import { littleEndianHost } from './endian.js';

export const op = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load16S: 0x2e,
  f64Store: 0x39,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  f64ConvertI32S: 0xb7,
  /** Prefix of every SIMD instruction; the SIMD opcode follows as a LEB128 number. */
  simd: 0xfd,
} as const;

export const simdOp = {
  v128Load: 0x00,
  v128Store: 0x0b,
  i8x16Shuffle: 0x0d,
  f64x2Splat: 0x14,
  i16x8AddSatS: 0x8f,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
} as const;

export const valueType = { i32: 0x7f, f64: 0x7c, v128: 0x7b } as const;
export type ValueType = (typeof valueType)[keyof typeof valueType];

/** Blocks and loops that leave nothing on the stack. */
export const EMPTY_BLOCK = 0x40;

export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, as `i32.const` takes its operand. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const i32Const = (value: number): number[] => [op.i32Const, ...sleb(value)];
export const localGet = (index: number): number[] => [op.localGet, ...uleb(index)];
export const localSet = (index: number): number[] => [op.localSet, ...uleb(index)];
export const localTee = (index: number): number[] => [op.localTee, ...uleb(index)];
export const simd = (code: number): number[] => [op.simd, ...uleb(code)];
/** A memory access: alignment as log2 of bytes, then the constant offset added to the address. */
export const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...uleb(offset)];

export interface WasmFunction {
  name: string;
  /** Local variables beyond the (absent) parameters, in order: index 0 is the first. */
  locals?: readonly ValueType[];
  code: readonly number[];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

function functionBody(fn: WasmFunction): number[] {
  // Runs of one type are declared together, as the format wants.
  const groups: number[][] = [];
  for (const type of fn.locals ?? []) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[1] === type) last[0] = (last[0] as number) + 1;
    else groups.push([1, type]);
  }
  const body = [...uleb(groups.length), ...groups.flatMap(([count, type]) => [...uleb(count as number), type as number]), ...fn.code, op.end];
  return [...uleb(body.length), ...body];
}

/** A module exporting `memory` (`pages` × 64 KiB, never grown) and the given functions. */
export function assembleModule(pages: number, functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const n = functions.length;
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]), // one type: () → ()
    ...section(3, [...uleb(n), ...functions.map(() => 0)]),
    ...section(5, [1, 0x00, ...uleb(pages)]), // one memory, no maximum
    ...section(7, [
      ...uleb(n + 1),
      ...name('memory'), 0x02, 0,
      ...functions.flatMap((fn, i) => [...name(fn.name), 0x00, ...uleb(i)]),
    ]),
    ...section(10, [...uleb(n), ...functions.flatMap(functionBody)]),
  ]);
}

/**
 * Compiles and instantiates the module, or null where WebAssembly or its SIMD is missing (the
 * caller keeps its JavaScript path then). Kernels read typed-array views of the memory, which
 * are little-endian only on a little-endian host.
 */
export function instantiateKernel<Exports>(bytes: Uint8Array<ArrayBuffer>): (Exports & { memory: WebAssembly.Memory }) | null {
  if (!littleEndianHost || typeof WebAssembly !== 'object') return null;
  try {
    if (!WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Exports & { memory: WebAssembly.Memory };
  } catch {
    return null;
  }
}
