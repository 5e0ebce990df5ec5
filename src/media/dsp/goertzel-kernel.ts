/**
 * Eight Goertzel filters over two blocks of samples at once, in WebAssembly SIMD: the sample loop
 * of in-band DTMF detection, which runs on every leg that listens for tones, every 20 ms.
 *
 * WHY. Each filter step is a serial chain (multiply, add, subtract, each waiting on the last),
 * so GoertzelBank's JavaScript runs four chains side by side and still waits on latency: about
 * 1.2 µs for the eight filters over a 160-sample frame. A frame's two 80-sample halves are
 * independent blocks, so here the eight filters of both halves run as eight f64x2 chains in one
 * loop: 0.35–0.4 µs. The energy of each half is a pass of its own (0.09 µs), so a caller can skip
 * the filters for quiet audio.
 *
 * The arithmetic is GoertzelBank's, operation for operation in the same order and precision
 * (y = (x + c·s1) − s2 in f64), so both give bit-identical states: a caller may use either for
 * any block. Energies are sums of integers, exact in any order.
 *
 * Returns null where WebAssembly SIMD is missing; callers keep GoertzelBank then.
 */
import {
  EMPTY_BLOCK, assembleModule, i32Const, instantiateKernel, localGet, localSet, localTee, memarg, op, simd, simdOp,
  valueType, type ValueType,
} from '../../util/wasm-assembler.js';

export interface GoertzelPairKernel {
  readonly blockSize: number;
  /** Two consecutive blocks, filled by the caller. */
  readonly input: Int16Array;
  /**
   * After `filter`, filter k's state after block b's last sample at [b·8 + k]: the s1 (latest) and
   * s2 (previous) that GoertzelBank keeps, each block started from rest.
   */
  readonly s1: Float64Array;
  readonly s2: Float64Array;
  /** After `measureEnergy`, each block's sum of squared samples. */
  readonly energy: Float64Array;
  /** Runs both blocks through the filters. */
  filter(): void;
  /**
   * Sums each block's squares, a quarter of the filters' cost, so a caller can leave quiet
   * blocks unfiltered.
   */
  measureEnergy(): void;
}

const FILTERS = 8;
const LANES = 2;
const VECTORS = FILTERS / LANES;
const ALIGN_2 = 1;
const ALIGN_8 = 3;
const ALIGN_16 = 4;

// Locals of `filter`: the loop's byte offset, the coefficient pairs, each block's sample
// splatted, then per block and vector the two filter states.
const I = 0;
const C = 1;
const VX = [C + VECTORS, C + VECTORS + 1];
const STATE = (VX[1] as number) + 1;
/** Local of block b, vector k: slot 0 holds s1 at the start of each two-sample step, slot 1 s2. */
const state = (block: number, vector: number, slot: 0 | 1): number => STATE + (block * 2 + slot) * VECTORS + vector;
const FILTER_LOCALS: ValueType[] = [valueType.i32, ...Array<ValueType>(VECTORS + 2 + 2 * 2 * VECTORS).fill(valueType.v128)];
// Locals of `energy`: the byte offset, a scratch sample, then even and odd sums per block.
const X = 1;
const SUM = (block: number, odd: number): number => 2 + 2 * block + odd;
const ENERGY_LOCALS: ValueType[] = [valueType.i32, ...Array<ValueType>(5).fill(valueType.f64)];

/** `loop … I += 4 while I < 2·blockSize` around `body`, two samples of each block a turn. */
function overBlock(blockSize: number, body: number[]): number[] {
  return [
    op.loop, EMPTY_BLOCK,
    ...body,
    ...localGet(I), ...i32Const(4), op.i32Add, ...localTee(I), ...i32Const(2 * blockSize), op.i32LtU, op.brIf, 0,
    op.end,
  ];
}

/** Pushes sample `sampleByte / 2` of the turn from block `block` as an f64. */
const loadSample = (layout: Layout, blockSize: number, block: number, sampleByte: number): number[] => [
  ...localGet(I), op.i32Load16S, ...memarg(ALIGN_2, layout.input + block * 2 * blockSize + sampleByte), op.f64ConvertI32S,
];

function filterCode(layout: Layout, blockSize: number): number[] {
  const code: number[] = [];
  for (let k = 0; k < VECTORS; k++) {
    code.push(...i32Const(0), ...simd(simdOp.v128Load), ...memarg(ALIGN_16, layout.coefficients + 16 * k), ...localSet(C + k));
  }
  // One sample of each block through every filter. The new state is written over s2, so the two
  // state slots swap roles each sample and the loop runs two samples a turn.
  const step = (sampleByte: number, s2Slot: 0 | 1): number[] => {
    const out: number[] = [];
    for (let b = 0; b < 2; b++) out.push(...loadSample(layout, blockSize, b, sampleByte), ...simd(simdOp.f64x2Splat), ...localSet(VX[b] as number));
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < VECTORS; k++) {
        const s1 = state(b, k, s2Slot === 0 ? 1 : 0);
        const s2 = state(b, k, s2Slot);
        out.push(
          ...localGet(VX[b] as number), ...localGet(C + k), ...localGet(s1), ...simd(simdOp.f64x2Mul), ...simd(simdOp.f64x2Add),
          ...localGet(s2), ...simd(simdOp.f64x2Sub), ...localSet(s2),
        );
      }
    }
    return out;
  };
  code.push(...overBlock(blockSize, [...step(0, 1), ...step(2, 0)]));
  for (let b = 0; b < 2; b++) {
    for (let k = 0; k < VECTORS; k++) {
      const at = 16 * (b * VECTORS + k);
      code.push(...i32Const(0), ...localGet(state(b, k, 0)), ...simd(simdOp.v128Store), ...memarg(ALIGN_16, layout.s1 + at));
      code.push(...i32Const(0), ...localGet(state(b, k, 1)), ...simd(simdOp.v128Store), ...memarg(ALIGN_16, layout.s2 + at));
    }
  }
  return code;
}

function energyCode(layout: Layout, blockSize: number): number[] {
  // The sums are of integers below 2^53, exact in any order: two per block halve the chain.
  const body: number[] = [];
  for (let b = 0; b < 2; b++) {
    for (let odd = 0; odd < 2; odd++) {
      body.push(
        ...loadSample(layout, blockSize, b, 2 * odd), ...localTee(X), ...localGet(X), op.f64Mul,
        ...localGet(SUM(b, odd)), op.f64Add, ...localSet(SUM(b, odd)),
      );
    }
  }
  const code = overBlock(blockSize, body);
  for (let b = 0; b < 2; b++) {
    code.push(...i32Const(0), ...localGet(SUM(b, 0)), ...localGet(SUM(b, 1)), op.f64Add, op.f64Store, ...memarg(ALIGN_8, layout.energy + 8 * b));
  }
  return code;
}

function moduleBytes(layout: Layout, blockSize: number): Uint8Array<ArrayBuffer> {
  return assembleModule(1, [
    { name: 'filter', locals: FILTER_LOCALS, code: filterCode(layout, blockSize) },
    { name: 'energy', locals: ENERGY_LOCALS, code: energyCode(layout, blockSize) },
  ]);
}

interface Layout {
  coefficients: number;
  input: number;
  s1: number;
  s2: number;
  energy: number;
}

function memoryLayout(blockSize: number): Layout {
  const coefficients = 0;
  const input = coefficients + FILTERS * 8;
  const s1 = Math.ceil((input + 4 * blockSize) / 16) * 16;
  const s2 = s1 + 2 * FILTERS * 8;
  return { coefficients, input, s1, s2, energy: s2 + 2 * FILTERS * 8 };
}

/**
 * A kernel for eight filters at `frequenciesHz` over blocks of `blockSize` samples (even, so the
 * loop's two-sample step fits; at most 8,000 so one page holds it), or null where it cannot run.
 */
export function goertzelPairKernel(frequenciesHz: readonly number[], sampleRate: number, blockSize: number): GoertzelPairKernel | null {
  if (frequenciesHz.length !== FILTERS) throw new RangeError(`the kernel runs exactly ${FILTERS} filters`);
  if (!Number.isInteger(blockSize) || blockSize < 2 || blockSize % 2 !== 0 || blockSize > 8000) {
    throw new RangeError('blockSize must be an even integer from 2 to 8000');
  }
  const layout = memoryLayout(blockSize);
  const exports = instantiateKernel<{ filter: () => void; energy: () => void }>(moduleBytes(layout, blockSize));
  if (exports === null) return null;
  const buffer = exports.memory.buffer;
  // GoertzelBank's coefficients, computed the same way so the states match bit for bit.
  new Float64Array(buffer, layout.coefficients, FILTERS).set(frequenciesHz.map((f) => 2 * Math.cos((2 * Math.PI * f) / sampleRate)));
  return {
    blockSize,
    input: new Int16Array(buffer, layout.input, 2 * blockSize),
    s1: new Float64Array(buffer, layout.s1, 2 * FILTERS),
    s2: new Float64Array(buffer, layout.s2, 2 * FILTERS),
    energy: new Float64Array(buffer, layout.energy, 2),
    filter: exports.filter,
    measureEnergy: exports.energy,
  };
}
