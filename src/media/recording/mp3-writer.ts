/**
 * MP3 encoding of engine audio with LAME compiled to WebAssembly (wasm-media-encoders: an MIT
 * wrapper around the LGPL LAME 3.100, used unmodified as a library), plus the one thing its
 * streaming API leaves out: the Info/LAME tag frame that tells decoders how many samples of
 * encoder delay and end padding to drop.
 *
 * WHY LAME IN WEBASSEMBLY. It costs 2.9 ms of CPU per second of mono audio and 6.9 ms stereo
 * (bench/recording.ts), a fifth and a third of what the JavaScript port, lamejs, took (13.5 and
 * 23 ms), and allocates nothing per frame in JavaScript. Its instances are made asynchronously,
 * so a thread keeps a few (`Mp3Engines`) and lends one to each encoding.
 *
 * Without that tag every decoder plays the file ~150 ms longer than it was at 8 kHz (LAME's
 * 576-sample encoder delay plus the decoder's 529, then up to two frames of padding), shifted
 * by that delay. With it, mpg123 (our decoder), ffmpeg, browsers and most players return
 * exactly the recorded samples. The tag frame has to come first but can only be filled in at
 * the end (it holds the frame count and padding), so callers reserve `infoFrameBytes` at the
 * start of the file and write `infoFrame(...)` there once encoding is done.
 *
 * BITRATE. MPEG-2.5 Layer III at 8 kHz, constant bitrate, 32 kbit/s per channel (mono 32,
 * dual 64), a quarter of the 128 kbit/s of the PCM it replaces. Measured on the speech corpus
 * with lamejs (a port of the same encoder, same settings) and mpg123: segmental SNR 11.9 dB at
 * 16 kbit/s (audibly smeared), 17.9 dB at 24, 21.7 dB at 32 (on a par with 32 kbit/s ADPCM,
 * G.726), 25.0 dB at 48; all of them keep the full 300–3400 Hz telephone band. 32 is where the
 * curve flattens, and ASR transcripts of recordings are worth the extra 3.6 MB an hour over 24.
 * LAME encodes 8 kHz audio at 64 kbit/s at most, so 32 per channel is also the most a dual
 * recording can have. Both supported rates (24 and 32 kbit/s per channel) leave frames large
 * enough (≥ 216 bytes) for the tag laid out exactly as LAME's own writer does: Xing header with
 * seek table, then the 36-byte LAME extension (169 bytes mono, 177 stereo); at 16 kbit/s LAME
 * itself would omit the tag.
 */
import { createMp3Encoder, type WasmMediaEncoder } from 'wasm-media-encoders';
import { readFrameHeader } from '../audio/mpeg-frames.js';
import { SAMPLE_RATE } from '../frame.js';

export type Mp3KbpsPerChannel = 24 | 32;
export const DEFAULT_MP3_KBPS_PER_CHANNEL: Mp3KbpsPerChannel = 32;

/** LAME's fixed encoder delay, in samples (the decoder adds its own 529 on top). */
const ENCODER_DELAY = 576;
/** Samples per MPEG-2.5 Layer III frame. */
const SAMPLES_PER_FRAME = 576;
/** Side information bytes after the header of an MPEG-2/2.5 Layer III frame. */
const SIDE_INFO = { 1: 9, 2: 17 } as const;

/** One LAME instance: reconfigured for each stream, and used by one stream at a time. */
export type Mp3Engine = WasmMediaEncoder<'audio/mpeg'>;

/**
 * The LAME instances of a thread, lent to one encoding at a time: making one compiles and
 * instantiates the WebAssembly module, which takes milliseconds and can only be done
 * asynchronously, while encoding itself runs in synchronous jobs.
 */
export class Mp3Engines {
  private readonly idle: Mp3Engine[] = [];

  async acquire(): Promise<Mp3Engine> {
    return this.idle.pop() ?? createMp3Encoder();
  }

  release(engine: Mp3Engine): void {
    this.idle.push(engine);
  }
}

export class Mp3StreamEncoder {
  readonly channels: 1 | 2;
  readonly kbps: number;
  /** Bytes of every frame, the tag frame included (constant bitrate, no padding slots at 8 kHz). */
  readonly frameBytes: number;
  private readonly engine: Mp3Engine;
  /** The samples as LAME takes them, -1 to 1, reused from call to call. */
  private planes: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
  private audioBytes = 0;
  private samples = 0;
  private firstHeader: Uint8Array | null = null;

  constructor(engine: Mp3Engine, channels: 1 | 2, kbpsPerChannel: Mp3KbpsPerChannel = DEFAULT_MP3_KBPS_PER_CHANNEL) {
    this.channels = channels;
    this.kbps = kbpsPerChannel * channels;
    // MPEG-2/2.5 Layer III: 72 bits per kbit/s per frame over the sample rate.
    this.frameBytes = (72_000 * this.kbps) / SAMPLE_RATE;
    this.engine = engine;
    engine.configure({ sampleRate: SAMPLE_RATE, channels, bitrate: this.kbps as 24 | 32 | 48 | 64 });
  }

  /** Bytes to reserve at the start of the file for `infoFrame`. */
  get infoFrameBytes(): number {
    return this.frameBytes;
  }

  /**
   * Encodes samples (`right` for stereo); returns whole MP3 frames, possibly none, in memory of
   * the engine's that the next call reuses.
   */
  encode(left: Int16Array, right?: Int16Array): Uint8Array {
    if (this.channels === 2 && (right === undefined || right.length !== left.length)) {
      throw new RangeError('stereo MP3 encoding needs a right channel as long as the left');
    }
    this.samples += left.length;
    const n = left.length;
    if (this.planes[0].length < n) this.planes = [new Float32Array(n), new Float32Array(this.channels === 2 ? n : 0)];
    const [l, r] = this.planes;
    for (let i = 0; i < n; i++) l[i] = (left[i] as number) / 32768;
    if (right === undefined) return this.account(this.engine.encode([l.subarray(0, n)]));
    for (let i = 0; i < n; i++) r[i] = (right[i] as number) / 32768;
    return this.account(this.engine.encode([l.subarray(0, n), r.subarray(0, n)]));
  }

  /** Ends the stream: returns the last frames, as `encode` does. */
  finish(): Uint8Array {
    return this.account(this.engine.finalize());
  }

  /** The Info/LAME tag frame for everything encoded so far; call after `finish`. */
  infoFrame(): Uint8Array {
    const header = this.firstHeader;
    if (header === null) throw new Error('no MP3 frames were produced');
    if (this.audioBytes % this.frameBytes !== 0) throw new Error('the MP3 stream ends inside a frame');
    const audioFrames = this.audioBytes / this.frameBytes;
    const frame = new Uint8Array(this.frameBytes);
    const view = new DataView(frame.buffer);
    frame.set(header);
    // Same stream parameters as the audio, so decoders accept it as part of the stream.
    let p = 4 + SIDE_INFO[this.channels];
    p = ascii(frame, p, 'Info'); // "Info" rather than "Xing": constant bitrate
    const fileBytes = this.frameBytes + this.audioBytes;
    view.setUint32(p, 0x1 | 0x2 | 0x4 | 0x8); // frame count, byte count, seek table, quality
    view.setUint32(p + 4, audioFrames);
    view.setUint32(p + 8, fileBytes);
    p += 12;
    // Seek table: byte position at each percent of the duration, in 1/256ths of the file; for
    // constant bitrate that is a straight line.
    for (let i = 0; i < 100; i++) frame[p + i] = Math.floor((i * 256) / 100);
    p += 100;
    view.setUint32(p, 0); // quality: not meaningful for CBR
    p += 4;
    const tag = p;
    p = ascii(frame, p, 'LAME3.100');
    frame[p++] = 0x01; // tag revision 0, method 1: constant bitrate
    frame[p++] = Math.min(255, Math.round(SAMPLE_RATE / 2 / 100)); // low-pass, 100 Hz units
    p += 8; // peak amplitude and replay gains: not measured
    frame[p++] = 0; // encoding flags / ATH type
    frame[p++] = Math.min(255, this.kbps);
    const padding = audioFrames * SAMPLES_PER_FRAME - ENCODER_DELAY - this.samples;
    frame[p++] = ENCODER_DELAY >> 4;
    frame[p++] = ((ENCODER_DELAY & 0x0f) << 4) | ((padding >> 8) & 0x0f);
    frame[p++] = padding & 0xff;
    p += 4; // misc, MP3 gain, preset/surround
    view.setUint32(p, fileBytes);
    p += 4;
    p += 2; // CRC of the audio data: optional, left 0
    // The tag's own CRC covers the frame up to itself (the first 190 bytes in an MPEG-1 frame).
    view.setUint16(p, crc16(frame, p));
    if (p + 2 - tag !== 36) throw new Error('LAME tag layout error');
    return frame;
  }

  /**
   * Checks the stream's first frame header and counts bytes. LAME hands out what its bit buffer
   * holds, which may end inside a frame (the rest follows in the next output), so frames are
   * counted from the byte total: at constant bitrate every frame has the same size.
   */
  private account(bytes: Uint8Array): Uint8Array {
    if (this.firstHeader === null && bytes.length > 0) {
      const h = bytes.length >= 4 ? readFrameHeader(bytes, 0) : undefined;
      if (h === undefined || h.length !== this.frameBytes) throw new Error('unexpected MP3 encoder output');
      this.firstHeader = bytes.slice(0, 4);
    }
    this.audioBytes += bytes.length;
    return bytes;
  }
}

function ascii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/** CRC-16 as the LAME tag uses it (polynomial 0x8005, reflected, initial value 0). */
function crc16(bytes: Uint8Array, length: number): number {
  let crc = 0;
  for (let i = 0; i < length; i++) {
    crc ^= bytes[i] as number;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
