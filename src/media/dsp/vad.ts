/**
 * Voice activity detection for one direction of a call: 20 ms frames of 16-bit PCM at 8 kHz in,
 * "is someone talking" out, one decision per frame.
 *
 * Used for `timeout_secs` (end a recording once the caller has stopped talking) and for
 * `trim: "trim-silence"`. Both must tell speech from what a telephone line carries when nobody
 * talks: digital silence, hiss (white or pink noise at any level), mains hum and buzz, and the
 * tones the network or the app plays (beeps, DTMF, dial/ringback/busy tones).
 *
 * ANALYSIS, per frame:
 *  1. A 2nd-order high-pass at 150 Hz removes DC and the mains fundamental, which telephone
 *     speech never carries (the channel starts at 300 Hz) but hum and line faults do.
 *  2. A 256-point Hann-windowed FFT over the last 32 ms (this frame plus 12 ms of the previous
 *     one; 31 Hz bins) gives the power spectrum, summed into eight sub-bands spanning
 *     250–3500 Hz, narrow at the bottom where voiced energy sits.
 *  3. Each band's level is compared with that band's noise estimate. Comparing per band is what
 *     makes the detector indifferent to the *colour* of the background: pink noise, hum
 *     harmonics or a hissy line each raise their own bands' estimates, and speech still stands
 *     out where it has energy the background lacks.
 *  4. A frame is *speech-like* when (a) its level clears an absolute floor (−55 dBov by default;
 *     quieter than that nothing on a phone line is intelligible), (b) the mean of its three best
 *     band SNRs (≥ 9 dB) or its whole-band SNR (≥ 5 dB) clears its threshold — the first catches
 *     voiced speech concentrated in a few bands under broadband noise, the second is the
 *     statistically steadier test for broadband sounds — and (c) it is not a steady tone.
 *  5. Smoothing: speech starts on the second consecutive speech-like frame (so onset is reported
 *     20–40 ms after the voice starts, and one-frame clicks never start it) and ends
 *     `hangoverFrames` (300 ms) after the last speech-like frame. A talkspurt with fewer than
 *     five speech-like frames earns only a 40 ms hangover, so a rare false start costs a few
 *     frames, not seventeen.
 *
 * NOISE ESTIMATE, per band, in dB:
 *  - Warm-up: the first four frames (80 ms) only set it, to the loudest level each band showed
 *    (a pulsing background such as buzz then settles onto its troughs rather than flagging its
 *    peaks). A recording usually opens on the line's idle sound, so noise of any level and
 *    colour is known from the start. If it opens on speech, the estimate falls to the first
 *    pause within ~100 ms and detection is normal from the next syllable.
 *  - Falls fast (30 % of the gap per frame) toward a quieter band, so every pause re-anchors it.
 *  - Rises toward a louder band at 10 % per frame when the frame is not speech-like.
 *  - Rises at 0.2 % per frame (τ ≈ 10 s) during speech-like frames, so talking does not teach it
 *    speech.
 *  - Adopts the current spectrum outright once it has held steady (mean band deviation from a
 *    70 ms running average < 3 dB) for a full second while looking like speech. Voiced speech
 *    never holds that still (the longest steady run in the 15-minute test corpus, drawn-out
 *    "mmmm"s and "ooooh"s included, is 580 ms); a new background does (a fan switched on, a
 *    hum that appears mid-call). Such a step therefore counts as speech for ~1.3 s, then not.
 *  - Ignores digital silence (< −80 dBov), which is what a far end that stops sending during
 *    pauses produces; learning it would make that far end's next burst of noise look like a
 *    new sound. (Known limit: if a recording *opens* on digital silence and the background then
 *    comes only in bursts shorter than a second, the bursts count as speech.)
 *
 * TONES. A frame is a tone when the two strongest spectral peaks (±3 bins each) hold
 * ≥ 90 % of the in-band energy, everything outside them is background (within 6 dB of the noise
 * estimate, or below the window's own leakage over digital silence), the peaks sit where they
 * did in the previous frame (±1 bin, in either order, since equal tones swap rank) and the level
 * moved by ≤ 3 dB. That covers sine beeps, DTMF pairs and dial/busy tones, and ringback pairs too
 * close to resolve (440 + 480 Hz merge into one peak). Voiced speech fails on the background
 * test: even when two harmonics dominate, the others lie well above the noise. About 1 % of the
 * corpus's active frames pass anyway, scattered; they cost under 0.5 % of voiced-frame
 * detection, since the hangover bridges them.
 * What a tone does: its first two frames (level still rising) can look like speech and so start
 * a talkspurt, which then ends after the 40 ms short-burst hangover — a tone yields at most
 * ~60 ms of "speech" at its onset and none after, however long it lasts. Consumers that must
 * not react to that blip (the silence timer, trimming) require `talkspurtSpeechFrames` ≥ 5.
 * A tone that starts while speech is active does not extend it. Speech over a tone (the app's
 * beep under the caller's voice) is still speech: the voice breaks the concentration.
 *
 * COST. Per frame: 800 multiplies for the filter, one 256-point FFT (~1000 butterflies), ~130
 * squares, two peak searches and ~12 logarithms: 11–17 µs in V8 (bench/recording.ts), under
 * 0.1 % of a core per stream. `process` allocates nothing: every floating-point scalar it
 * updates lives in a Float64Array (see STATE below).
 */
const SAMPLE_RATE = 8000;
/** The engine's 20 ms frame; `process` consumes exactly this many samples per call. */
export const VAD_FRAME_SAMPLES = 160;
const FFT_SIZE = 256;
const FFT_BITS = 8;
const BINS = FFT_SIZE / 2 + 1;
const BIN_HZ = SAMPLE_RATE / FFT_SIZE;

/** Sub-band edges in Hz: roughly constant width on a perceptual scale, telephone band only. */
const BAND_EDGES_HZ = [250, 406, 594, 812, 1094, 1437, 1875, 2437, 3500];
const BANDS = BAND_EDGES_HZ.length - 1;
const FIRST_BIN = Math.round((BAND_EDGES_HZ[0] as number) / BIN_HZ);
const END_BIN = Math.round((BAND_EDGES_HZ[BANDS] as number) / BIN_HZ);

/**
 * Bins either side of a peak counted as that peak's energy: a Hann main lobe is ±2 bins, and one
 * more takes in a pair too close to resolve (ringback's 440 + 480 Hz) as a single peak.
 */
const PEAK_HALF_WIDTH = 3;
/** Floor for band powers, so log10 never sees 0 (far below any 16-bit signal's). */
const POWER_EPSILON = 1e-3;
/** 0 dBov: the power of a full-scale square wave in 16-bit units. */
const FULL_SCALE_POWER = 32768 * 32768;

const NOISE_FALL = 0.3;
const NOISE_RISE_IDLE = 0.1;
const NOISE_RISE_SPEECH = 0.002;
/** Running average of band levels for the steadiness test (τ ≈ 70 ms), and its restart jump. */
const STEADY_AVERAGE = 0.25;
const STEADY_RESTART_DB = 20;
/** Mean band deviation from that average under which a frame counts as steady, dB. */
const STEADY_DEVIATION_DB = 3;
/** Tone test: residual at most this times the noise estimate, or this share of the frame (Hann leakage). */
const TONE_RESIDUAL_FACTOR = 4;
const TONE_LEAKAGE = 0.003;
/** Tone test: largest frame-to-frame level change, dB. */
const TONE_LEVEL_STEP_DB = 3;
/** Frames quieter than this (dBov) are digital silence and leave the noise estimate alone. */
const DIGITAL_SILENCE_DB = -80;
/** Frames at the start that only set the initial noise estimate (80 ms). */
const WARMUP_FRAMES = 4;

export interface VoiceActivityOptions {
  /** Called on the frame that confirms speech, with the index of the talkspurt's first speech-like frame. */
  onSpeechStart?: (firstFrame: number) => void;
  /** Called on the first frame no longer counted as speech, with the index of the last speech-like frame. */
  onSpeechEnd?: (lastFrame: number) => void;
  /** Frames of silence after speech before it is declared over. Default 15 (300 ms). */
  hangoverFrames?: number;
  /** Absolute level below which nothing is speech, dBov (0 = full-scale square wave). Default −55. */
  minLevelDb?: number;
  /** Mean of the three best band SNRs that makes a frame speech-like, dB. Default 9. */
  bandSnrDb?: number;
  /** Whole-band (250–3500 Hz) SNR that makes a frame speech-like, dB. Default 5. */
  fullSnrDb?: number;
  /** Share of in-band energy in the two strongest peaks above which a steady frame is a tone. Default 0.9. */
  toneRatio?: number;
  /** Frames the spectrum must hold steady before the noise estimate follows it despite looking like speech. Default 50 (1 s). */
  steadyFrames?: number;
}

/** Measurements of the last frame, for tuning and diagnostics. */
export interface VoiceActivityFeatures {
  /** Level of the high-passed frame, dBov. */
  readonly levelDb: number;
  /** Whole-band SNR against the noise estimate, dB. */
  readonly fullSnrDb: number;
  /** Mean of the three best band SNRs, dB. */
  readonly topBandSnrDb: number;
  /** Share of in-band energy held by the two strongest peaks (0..1). */
  readonly toneRatio: number;
  /** The frame was judged a steady tone. */
  readonly tone: boolean;
  /** Mean absolute deviation of band levels from their running average, dB. */
  readonly deviationDb: number;
  /** Consecutive frames the spectrum has held steady. */
  readonly steadyRun: number;
}

// STATE: every floating-point scalar that changes per frame lives in one Float64Array, indexed
// by these.
// V8 keeps a double in an object field as a boxed number and, depending on how the field
// started out, may allocate a new box on each store; typed-array stores never allocate.
const HX1 = 0;
const HX2 = 1;
const HY1 = 2;
const HY2 = 3;
const LEVEL_DB = 4;
const FULL_DB = 5;
const PREVIOUS_FULL_DB = 6;
const NOISE_FULL_DB = 7;
const FULL_SNR_DB = 8;
const TOP_SNR_DB = 9;
const TONE_RATIO = 10;
const DEVIATION_DB = 11;
const FULL_POWER = 12;
const STATE_SIZE = 13;

export class VoiceActivityDetector {
  /** Smoothed decision for the last frame: speech is (still) going on. */
  speech = false;
  /** Unsmoothed decision for the last frame. */
  speechLike = false;
  /** Frames processed so far; the last frame's index is `frames - 1`. */
  frames = 0;
  /** Index of the first speech-like frame of the current (or last) talkspurt, or −1. */
  talkspurtStart = -1;
  /** Index of the most recent speech-like frame, or −1. */
  lastSpeechLikeFrame = -1;
  /**
   * Speech-like frames in the current talkspurt so far (0 when there is none). A talkspurt of
   * fewer than five is what a tone's onset or a stray click produces; see TONES.
   */
  talkspurtSpeechFrames = 0;
  /** Measurements of the last frame (a live view: read it after `process`, copy what you keep). */
  readonly features: VoiceActivityFeatures;

  private readonly onSpeechStart: ((firstFrame: number) => void) | undefined;
  private readonly onSpeechEnd: ((lastFrame: number) => void) | undefined;
  private readonly hangoverFrames: number;
  private readonly minLevelDb: number;
  private readonly bandSnrDb: number;
  private readonly fullSnrDb: number;
  private readonly toneRatio: number;
  private readonly steadyFrames: number;

  /** High-pass biquad coefficients b0 b1 b2 a1 a2 (direct form I; its state is in `state`). */
  private readonly hp = new Float64Array(5);
  private readonly state = new Float64Array(STATE_SIZE);
  /** The last FFT_SIZE high-passed samples, oldest first. */
  private readonly history = new Float64Array(FFT_SIZE);
  private readonly window = new Float64Array(FFT_SIZE);
  private readonly re = new Float64Array(FFT_SIZE);
  private readonly im = new Float64Array(FFT_SIZE);
  private readonly cosTable = new Float64Array(FFT_SIZE / 2);
  private readonly sinTable = new Float64Array(FFT_SIZE / 2);
  private readonly bitReverse = new Uint16Array(FFT_SIZE);
  private readonly power = new Float64Array(BINS);
  private readonly bandStart = new Uint16Array(BANDS);
  private readonly bandEnd = new Uint16Array(BANDS);
  /** This frame's band levels, dB. */
  private readonly bandDb = new Float64Array(BANDS);
  /** Noise estimate per band, dB. */
  private readonly noiseDb = new Float64Array(BANDS);
  /** Running average of band levels, dB (steadiness test). */
  private readonly averageDb = new Float64Array(BANDS);

  private tone = false;
  private steadyRun = 0;
  private onsetRun = 0;
  private hangoverLeft = 0;
  private previousPeak1 = -10;
  private previousPeak2 = -10;

  constructor(options: VoiceActivityOptions = {}) {
    this.onSpeechStart = options.onSpeechStart;
    this.onSpeechEnd = options.onSpeechEnd;
    this.hangoverFrames = options.hangoverFrames ?? 15;
    this.minLevelDb = options.minLevelDb ?? -55;
    this.bandSnrDb = options.bandSnrDb ?? 9;
    this.fullSnrDb = options.fullSnrDb ?? 5;
    this.toneRatio = options.toneRatio ?? 0.9;
    this.steadyFrames = options.steadyFrames ?? 50;

    // Butterworth high-pass (Q = 1/√2) by the bilinear transform.
    const w0 = (2 * Math.PI * 150) / SAMPLE_RATE;
    const alpha = Math.sin(w0) / Math.SQRT2;
    const cosW0 = Math.cos(w0);
    const a0 = 1 + alpha;
    this.hp.set([(1 + cosW0) / 2 / a0, -(1 + cosW0) / a0, (1 + cosW0) / 2 / a0, (-2 * cosW0) / a0, (1 - alpha) / a0]);

    for (let i = 0; i < FFT_SIZE; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT_SIZE);
    for (let i = 0; i < FFT_SIZE / 2; i++) {
      this.cosTable[i] = Math.cos((2 * Math.PI * i) / FFT_SIZE);
      this.sinTable[i] = Math.sin((2 * Math.PI * i) / FFT_SIZE);
    }
    for (let i = 0; i < FFT_SIZE; i++) {
      let r = 0;
      for (let b = 0; b < FFT_BITS; b++) r |= ((i >> b) & 1) << (FFT_BITS - 1 - b);
      this.bitReverse[i] = r;
    }
    for (let b = 0; b < BANDS; b++) {
      this.bandStart[b] = Math.round((BAND_EDGES_HZ[b] as number) / BIN_HZ);
      this.bandEnd[b] = Math.round((BAND_EDGES_HZ[b + 1] as number) / BIN_HZ);
    }
    const state = this.state;
    state[LEVEL_DB] = -Infinity;
    // Getters, so that reading diagnostics costs nothing unless someone reads them.
    const self = this;
    this.features = {
      get levelDb() {
        return state[LEVEL_DB] as number;
      },
      get fullSnrDb() {
        return state[FULL_SNR_DB] as number;
      },
      get topBandSnrDb() {
        return state[TOP_SNR_DB] as number;
      },
      get toneRatio() {
        return state[TONE_RATIO] as number;
      },
      get tone() {
        return self.tone;
      },
      get deviationDb() {
        return state[DEVIATION_DB] as number;
      },
      get steadyRun() {
        return self.steadyRun;
      },
    };
  }

  /**
   * Analyses one 20 ms frame: samples[offset + i·stride] for i < 160 (a stride of 2 reads one
   * channel of interleaved stereo in place). Returns the smoothed decision, also left in `speech`.
   */
  process(samples: Int16Array, offset = 0, stride = 1): boolean {
    if (offset < 0 || offset + (VAD_FRAME_SAMPLES - 1) * stride >= samples.length) {
      throw new RangeError('a VAD frame is 160 samples');
    }
    const frame = this.frames++;
    this.filter(samples, offset, stride);
    this.spectrum();
    const speechLike = this.classify();
    this.updateNoise(speechLike);
    this.smooth(frame, speechLike);
    return this.speech;
  }

  /** Forgets everything, as if newly constructed (e.g. for a new stream). */
  reset(): void {
    this.speech = false;
    this.speechLike = false;
    this.frames = 0;
    this.talkspurtStart = -1;
    this.lastSpeechLikeFrame = -1;
    this.talkspurtSpeechFrames = 0;
    this.state.fill(0);
    this.state[LEVEL_DB] = -Infinity;
    this.history.fill(0);
    this.tone = false;
    this.steadyRun = 0;
    this.onsetRun = 0;
    this.hangoverLeft = 0;
    this.previousPeak1 = this.previousPeak2 = -10;
  }

  /** High-passes the frame into the tail of `history` and measures its level. */
  private filter(samples: Int16Array, offset: number, stride: number): void {
    const { history, hp, state } = this;
    const b0 = hp[0] as number;
    const b1 = hp[1] as number;
    const b2 = hp[2] as number;
    const a1 = hp[3] as number;
    const a2 = hp[4] as number;
    history.copyWithin(0, VAD_FRAME_SAMPLES);
    let x1 = state[HX1] as number;
    let x2 = state[HX2] as number;
    let y1 = state[HY1] as number;
    let y2 = state[HY2] as number;
    let energy = 0;
    const base = FFT_SIZE - VAD_FRAME_SAMPLES;
    for (let i = 0, p = offset; i < VAD_FRAME_SAMPLES; i++, p += stride) {
      const x = samples[p] as number;
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      history[base + i] = y;
      energy += y * y;
    }
    // Denormals would slow the recursion to a crawl after a long stretch of digital silence.
    state[HX1] = x1;
    state[HX2] = x2;
    state[HY1] = Math.abs(y1) < 1e-12 ? 0 : y1;
    state[HY2] = Math.abs(y2) < 1e-12 ? 0 : y2;
    state[LEVEL_DB] = 10 * Math.log10(energy / VAD_FRAME_SAMPLES / FULL_SCALE_POWER + 1e-12);
  }

  /** Windowed in-place radix-2 FFT of `history` into `power` (bins 0..N/2). */
  private spectrum(): void {
    const { re, im, history, window, bitReverse, cosTable, sinTable, power } = this;
    for (let i = 0; i < FFT_SIZE; i++) {
      const j = bitReverse[i] as number;
      re[j] = (history[i] as number) * (window[i] as number);
      im[j] = 0;
    }
    for (let size = 2; size <= FFT_SIZE; size <<= 1) {
      const half = size >> 1;
      const step = FFT_SIZE / size;
      for (let start = 0; start < FFT_SIZE; start += size) {
        for (let k = 0, t = 0; k < half; k++, t += step) {
          const wr = cosTable[t] as number;
          const wi = -(sinTable[t] as number);
          const a = start + k;
          const b = a + half;
          const br = re[b] as number;
          const bi = im[b] as number;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[a] as number;
          const ai = im[a] as number;
          re[a] = ar + tr;
          im[a] = ai + ti;
          re[b] = ar - tr;
          im[b] = ai - ti;
        }
      }
    }
    for (let k = 0; k < BINS; k++) {
      const r = re[k] as number;
      const m = im[k] as number;
      power[k] = r * r + m * m;
    }
  }

  /**
   * The tone test (see TONES): sets `tone` and the tone ratio. Runs after `classify` has
   * measured the band levels, against the noise estimate from the previous frame.
   */
  private measureTone(): void {
    const { power, state } = this;
    const fullPower = state[FULL_POWER] as number;
    let k1 = FIRST_BIN;
    for (let k = FIRST_BIN; k < END_BIN; k++) if ((power[k] as number) > (power[k1] as number)) k1 = k;
    // The second peak: the strongest local maximum clear of the first's main lobe. Pairs as close
    // as 90 Hz (dial tone, 350 + 440) are three bins apart; closer ones (ringback, 440 + 480)
    // merge into the first peak's lobe and count as one.
    let k2 = -1;
    for (let k = FIRST_BIN + 1; k < END_BIN - 1; k++) {
      if (Math.abs(k - k1) < 3) continue;
      const p = power[k] as number;
      if (p < (power[k - 1] as number) || p < (power[k + 1] as number)) continue;
      if (k2 < 0 || p > (power[k2] as number)) k2 = k;
    }
    const lo1 = Math.max(FIRST_BIN, k1 - PEAK_HALF_WIDTH);
    const hi1 = Math.min(END_BIN - 1, k1 + PEAK_HALF_WIDTH);
    let peaks = 0;
    for (let k = lo1; k <= hi1; k++) peaks += power[k] as number;
    if (k2 >= 0) {
      // Bins shared with the first peak's span are counted once.
      for (let k = Math.max(FIRST_BIN, k2 - PEAK_HALF_WIDTH); k <= Math.min(END_BIN - 1, k2 + PEAK_HALF_WIDTH); k++) {
        if (k < lo1 || k > hi1) peaks += power[k] as number;
      }
    }
    const share = fullPower > 0 ? Math.min(1, peaks / fullPower) : 0;
    const residual = Math.max(0, fullPower - peaks);
    // Everything outside the peaks is background: at the noise estimate's level, or, over
    // digital silence, no more than the window's own leakage.
    const quiet =
      residual <= TONE_RESIDUAL_FACTOR * 10 ** ((state[NOISE_FULL_DB] as number) / 10) || residual <= TONE_LEAKAGE * fullPower;
    // A lone tone's second "peak" is leakage that wanders; then only the main peak must hold still.
    const single = k2 < 0 || (power[k2] as number) < 0.01 * (power[k1] as number);
    // Two equal tones swap rank from frame to frame, so the pair is compared in either order.
    const p1 = this.previousPeak1;
    const p2 = this.previousPeak2;
    const peaksHold = single
      ? Math.abs(k1 - p1) <= 1 || Math.abs(k1 - p2) <= 1
      : (Math.abs(k1 - p1) <= 1 && Math.abs(k2 - p2) <= 1) || (Math.abs(k1 - p2) <= 1 && Math.abs(k2 - p1) <= 1);
    const levelHolds = Math.abs((state[FULL_DB] as number) - (state[PREVIOUS_FULL_DB] as number)) <= TONE_LEVEL_STEP_DB;
    this.previousPeak1 = k1;
    this.previousPeak2 = k2;
    state[TONE_RATIO] = share;
    this.tone = share >= this.toneRatio && quiet && peaksHold && levelHolds;
  }

  /** Band levels, steadiness, SNRs and the unsmoothed decision for this frame. */
  private classify(): boolean {
    const { power, bandDb, noiseDb, averageDb, state } = this;
    let full = 0;
    for (let b = 0; b < BANDS; b++) {
      let e = 0;
      for (let k = this.bandStart[b] as number; k < (this.bandEnd[b] as number); k++) e += power[k] as number;
      full += e;
      bandDb[b] = 10 * Math.log10(e + POWER_EPSILON);
    }
    const fullDb = 10 * Math.log10(full + POWER_EPSILON);
    state[FULL_POWER] = full;
    state[PREVIOUS_FULL_DB] = state[FULL_DB] as number;
    state[FULL_DB] = fullDb;

    // Steadiness: distance from a short running average (τ ≈ 70 ms), which restarts from the
    // current level after a jump so that a step settles at once rather than after the average
    // has crawled across it.
    let deviation = 0;
    for (let b = 0; b < BANDS; b++) {
      const level = bandDb[b] as number;
      const gap = level - (averageDb[b] as number);
      deviation += Math.abs(gap);
      averageDb[b] = Math.abs(gap) > STEADY_RESTART_DB ? level : (averageDb[b] as number) + STEADY_AVERAGE * gap;
    }
    deviation /= BANDS;
    state[DEVIATION_DB] = deviation;
    this.steadyRun = deviation < STEADY_DEVIATION_DB ? this.steadyRun + 1 : 0;

    if (this.frames <= WARMUP_FRAMES) {
      // Warm-up: the first frames define the background (the loudest of them, per band, so a
      // background that pulses, like buzz, starts at its peaks and settles onto its troughs).
      // Frame 0's window is part-empty and its filter is still settling, so it counts only
      // through the maximum.
      const first = this.frames === 1;
      for (let b = 0; b < BANDS; b++) {
        noiseDb[b] = first ? (bandDb[b] as number) : Math.max(noiseDb[b] as number, bandDb[b] as number);
      }
      state[NOISE_FULL_DB] = first ? fullDb : Math.max(state[NOISE_FULL_DB] as number, fullDb);
      state[TOP_SNR_DB] = 0;
      state[FULL_SNR_DB] = 0;
      this.tone = false;
      return false;
    }
    this.measureTone();

    let top1 = 0;
    let top2 = 0;
    let top3 = 0;
    for (let b = 0; b < BANDS; b++) {
      const snr = (bandDb[b] as number) - (noiseDb[b] as number);
      if (snr > top1) {
        top3 = top2;
        top2 = top1;
        top1 = snr;
      } else if (snr > top2) {
        top3 = top2;
        top2 = snr;
      } else if (snr > top3) {
        top3 = snr;
      }
    }
    const topSnr = (top1 + top2 + top3) / 3;
    const fullSnr = fullDb - (state[NOISE_FULL_DB] as number);
    state[TOP_SNR_DB] = topSnr;
    state[FULL_SNR_DB] = fullSnr;
    return (
      (state[LEVEL_DB] as number) >= this.minLevelDb &&
      !this.tone &&
      (topSnr >= this.bandSnrDb || fullSnr >= this.fullSnrDb)
    );
  }

  /** Moves the noise estimate (see NOISE ESTIMATE). */
  private updateNoise(speechLike: boolean): void {
    const { bandDb, noiseDb, averageDb, state } = this;
    // Digital silence says nothing about the background: it is what a far end that stops sending
    // during pauses (DTX) or a muted leg produces. Learning it would make the next burst of that
    // far end's noise look like a new sound.
    if (this.frames <= WARMUP_FRAMES || (state[LEVEL_DB] as number) < DIGITAL_SILENCE_DB) return;
    if (speechLike && this.steadyRun >= this.steadyFrames) {
      // A spectrum this steady is a new background, whatever its level: adopt it.
      let full = 0;
      for (let b = 0; b < BANDS; b++) {
        noiseDb[b] = Math.max(noiseDb[b] as number, averageDb[b] as number);
        full += 10 ** ((noiseDb[b] as number) / 10);
      }
      state[NOISE_FULL_DB] = Math.max(state[NOISE_FULL_DB] as number, 10 * Math.log10(full));
      return;
    }
    const rise = speechLike ? NOISE_RISE_SPEECH : NOISE_RISE_IDLE;
    for (let b = 0; b < BANDS; b++) {
      const level = bandDb[b] as number;
      const noise = noiseDb[b] as number;
      noiseDb[b] = noise + (level < noise ? NOISE_FALL : rise) * (level - noise);
    }
    const fullDb = state[FULL_DB] as number;
    const noiseFull = state[NOISE_FULL_DB] as number;
    state[NOISE_FULL_DB] = noiseFull + (fullDb < noiseFull ? NOISE_FALL : rise) * (fullDb - noiseFull);
  }

  private smooth(frame: number, speechLike: boolean): void {
    this.speechLike = speechLike;
    if (speechLike) {
      this.lastSpeechLikeFrame = frame;
      this.onsetRun++;
      this.talkspurtSpeechFrames++;
      if (this.speech) {
        this.hangoverLeft = this.talkspurtSpeechFrames >= 5 ? this.hangoverFrames : Math.max(this.hangoverLeft, 2);
      } else if (this.onsetRun >= 2) {
        this.speech = true;
        this.talkspurtStart = frame - this.onsetRun + 1;
        this.hangoverLeft = 2;
        this.onSpeechStart?.(this.talkspurtStart);
      }
      return;
    }
    this.onsetRun = 0;
    if (!this.speech) {
      this.talkspurtSpeechFrames = 0;
      return;
    }
    if (this.hangoverLeft > 0) {
      this.hangoverLeft--;
      return;
    }
    this.speech = false;
    this.onSpeechEnd?.(this.lastSpeechLikeFrame);
    this.talkspurtSpeechFrames = 0;
  }
}
