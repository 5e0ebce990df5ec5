/** Typed arrays follow the host's byte order; WAV files and WebAssembly memory are little-endian. */
export const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
