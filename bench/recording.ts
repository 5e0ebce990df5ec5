/**
 * What call recording costs in CPU. Prints one JSON object:
 *  - append: µs per 20 ms tick for each spool layout, measured over many open spools appended
 *    round-robin as the media tick does (the write every 10th tick included), in wall time and
 *    in CPU time (user + system, which other processes on the machine do not inflate), plus
 *    the GCs seen;
 *  - vad: µs per frame of the voice activity detector (only runs live for `timeout_secs`);
 *  - finalize: CPU (user + system, fsync included) per minute of recorded audio for WAV, WAV
 *    with trim-silence, and MP3, mono and stereo — run in this thread, warm;
 *  - projected: CPU for 100 concurrent recordings as a share of one core, per configuration:
 *    the live part (append, + VAD with timeout_secs) and finalisation averaged over the
 *    recording's length (finalisation runs on worker threads, i.e. other cores), and the same
 *    per call;
 *  - live: the whole per-tick path of a recording in the server, measured on `spools` SIP legs
 *    in this process: each tick pulls every leg's outbound frame and hands it its inbound one,
 *    as the RTP session does, through the real LegMedia tap, LegAudio, the recording service's
 *    tap and a batched spool. CPU (user + system) per leg per tick with every leg recording,
 *    with every recording paused (the tap still attached), and with no recording at all, in
 *    interleaved blocks so that drift lands on all three alike. Only the RTP session is a
 *    stand-in (it delivers frames; no packets are sent).
 *
 *   npx tsx bench/recording.ts [appendSeconds=2] [spools=100] [sections=append,vad,finalize,live]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { runToCompletion } from '../src/media/audio/cooperative.js';
import { VoiceActivityDetector } from '../src/media/dsp/vad.js';
import { finalizeJob, type FinalizeRequest, type RecordingFormat } from '../src/media/recording/finalize-job.js';
import { Mp3Engines } from '../src/media/recording/mp3-writer.js';
import { RecordingSpool, SpoolWriteBatch, type RecordingChannels, type RecordingTrack } from '../src/media/recording/spool.js';
import { loadSpeechCorpus } from '../test/helpers/speech-audio.js';
import { LegAudio } from '../src/calls/leg-audio.js';
import type { LegRecord } from '../src/calls/leg-record.js';
import { LegMedia, type LegMediaOptions } from '../src/endpoints/sip-legs/leg-media.js';
import { recordingMedia } from '../src/recordings/recording-media.js';
import { RecordingService } from '../src/recordings/recording-service.js';
import type { RecordingRepository } from '../src/store/recording-repository.js';

const appendSeconds = Number(process.argv[2] ?? 2);
const spoolCount = Number(process.argv[3] ?? 100);
const sections = new Set((process.argv[4] ?? 'append,vad,finalize,live').split(','));
const RATE = 8000;
const FRAME = 160;
const dir = mkdtempSync(join(tmpdir(), 'recording-bench-'));

/** A minute of each direction: speech from the corpus when a synthesiser is installed. */
async function material(): Promise<{ inbound: Int16Array; outbound: Int16Array; source: string }> {
  const n = 60 * RATE;
  const corpus = await loadSpeechCorpus();
  if (!('skip' in corpus) && corpus.samples.length >= 2 * n) {
    return { inbound: corpus.samples.slice(0, n), outbound: corpus.samples.slice(n, 2 * n), source: `speech corpus (${corpus.tools})` };
  }
  const inbound = new Int16Array(n);
  const outbound = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    inbound[i] = Math.round(6000 * Math.sin(i / 7) * Math.max(0, Math.sin(i / 2000)));
    outbound[i] = Math.round(4000 * Math.sin(i / 3) * Math.max(0, Math.cos(i / 3000)));
  }
  return { inbound, outbound, source: 'synthetic (no speech synthesiser installed)' };
}

function countGcs(): { stop(): number } {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return gcs;
    },
  };
}

async function benchAppend(
  channels: RecordingChannels,
  track: RecordingTrack,
  inbound: Int16Array,
  outbound: Int16Array,
  batched = false,
): Promise<{ usPerFrame: number; cpuUsPerFrame: number; gcs: number }> {
  const frames = Math.floor(inbound.length / FRAME);
  const inViews = Array.from({ length: frames }, (_, f) => inbound.subarray(f * FRAME, (f + 1) * FRAME));
  const outViews = Array.from({ length: frames }, (_, f) => outbound.subarray(f * FRAME, (f + 1) * FRAME));
  // As the server does: full buffers written together once each round (tick) is over.
  const batch = batched ? new SpoolWriteBatch() : undefined;
  const spools = Array.from({ length: spoolCount }, (_, i) =>
    RecordingSpool.create(join(dir, `append-${channels}-${track}-${batched ? 'b' : 'u'}-${i}.spool`), { channels, track, batch }),
  );
  const tick = (round: number): void => {
    for (let s = 0; s < spools.length; s++) {
      const f = (round + s * 37) % frames;
      (spools[s] as RecordingSpool).append(inViews[f] as Int16Array, outViews[f] as Int16Array);
    }
  };
  for (let round = 0; round < 100; round++) {
    tick(round);
    if (batched) await Promise.resolve();
  }
  const gc = countGcs();
  let appended = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + appendSeconds * 1000;
  for (let round = 100; performance.now() < deadline; round++) {
    tick(round);
    if (batched) await Promise.resolve();
    appended += spools.length;
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const gcs = gc.stop();
  for (const s of spools) {
    s.close();
    rmSync(s.path);
  }
  return { usPerFrame: round3((elapsed * 1000) / appended), cpuUsPerFrame: round3((cpu.user + cpu.system) / appended), gcs };
}

function benchVad(pcm: Int16Array): number {
  const vad = new VoiceActivityDetector();
  const frames = Math.floor(pcm.length / FRAME);
  for (let f = 0; f < frames; f++) vad.process(pcm, f * FRAME);
  const start = performance.now();
  let n = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (let f = 0; f < frames; f++, n++) vad.process(pcm, f * FRAME);
  }
  return round3(((performance.now() - start) * 1000) / n);
}

function writeSpool(path: string, channels: RecordingChannels, inbound: Int16Array, outbound: Int16Array): void {
  const spool = RecordingSpool.create(path, { channels });
  for (let at = 0; at + FRAME <= inbound.length; at += FRAME) {
    spool.append(inbound.subarray(at, at + FRAME), outbound.subarray(at, at + FRAME));
  }
  spool.close();
}

// Made once, as a finalising worker does; its making is not part of the measured CPU.
const mp3Engine = await new Mp3Engines().acquire();

/** CPU ms to finalise one minute of audio (median of `runs`, after a warm-up run). */
function benchFinalize(
  channels: RecordingChannels,
  format: RecordingFormat,
  trimSilence: boolean,
  inbound: Int16Array,
  outbound: Int16Array,
  runs = 3,
): number {
  const samples: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const spoolPath = join(dir, `finalize-${run}.spool`);
    writeSpool(spoolPath, channels, inbound, outbound);
    const request: FinalizeRequest = {
      spoolPath,
      outputPath: join(dir, `finalize-${run}.${format}`),
      format,
      trimSilence,
      trimMarginMs: 200,
      mp3KbpsPerChannel: 32,
      sliceFrames: 16_384,
    };
    const before = process.cpuUsage();
    runToCompletion(finalizeJob(request, mp3Engine));
    const used = process.cpuUsage(before);
    rmSync(request.outputPath);
    if (run > 0) samples.push((used.user + used.system) / 1000);
  }
  samples.sort((a, b) => a - b);
  const minutes = inbound.length / RATE / 60;
  return round3((samples[Math.floor(samples.length / 2)] as number) / minutes);
}

/** What a LegMedia needs of its RTP session here: somewhere to hang its callbacks. */
class StandInRtp {
  onDtmfStart: ((digit: string) => void) | null = null;
  onFrame: ((frame: Int16Array, kind: 'audio') => void) | null = null;
  pull: (() => Int16Array | null) | null = null;
  setOutboundSource(source: (() => Int16Array | null) | null): void {
    this.pull = source;
  }
}

type LiveState = 'recording' | 'paused' | 'none';

/**
 * CPU µs per leg per tick of the live path, for each state (see the header), over `legs` legs
 * carrying `inbound`/`outbound` both ways. Blocks of 250 ms rotate through the states for
 * `seconds` each.
 */
async function benchLive(channels: RecordingChannels, inbound: Int16Array, outbound: Int16Array, legs: number, seconds: number): Promise<Record<LiveState, number>> {
  const frames = Math.floor(inbound.length / FRAME);
  const liveDir = mkdtempSync(join(dir, `live-${channels}-`));
  const makeLegs = (prefix: string) => Array.from({ length: legs }, (_, i) => {
    const rtp = new StandInRtp();
    const options: LegMediaOptions = {
      advertisedAddress: '127.0.0.1', inbandDtmf: false, now: () => performance.now(), onDigit: () => undefined,
    } as unknown as LegMediaOptions;
    // The constructor is private to LegMedia.open, which would bind a socket.
    const media = new (LegMedia as unknown as new (rtp: StandInRtp, options: LegMediaOptions) => LegMedia)(rtp, options);
    const record = { callControlId: `${prefix}-${i}`, callLegId: `${prefix}-leg-${i}`, callSessionId: 's', connectionId: 'c', from: '+1', to: '+2', clientState: null } as unknown as LegRecord;
    const audio = new LegAudio(record, { publish: () => undefined, heard: () => undefined, listen: (tap) => media.setAudioTap(tap) });
    let at = (i * 37) % frames;
    media.setAudioSource({ nextFrame: () => outbound.subarray(at * FRAME, at * FRAME + FRAME) });
    // The RTP session plays out into one buffer of its own, overwritten every tick.
    const played = new Int16Array(FRAME);
    const tick = (): void => {
      at = (at + 1) % frames;
      played.set(inbound.subarray(at * FRAME, at * FRAME + FRAME));
    };
    return { rtp, audio, record, played, tick };
  });
  const sets: Record<LiveState, ReturnType<typeof makeLegs>> = { recording: makeLegs('r'), paused: makeLegs('p'), none: makeLegs('n') };
  const repository = { save: () => undefined, unfinished: () => [], saveTranscription: () => undefined } as unknown as RecordingRepository;
  const byCcid = new Map([...sets.recording, ...sets.paused].map((l) => [l.record.callControlId, l]));
  const service = new RecordingService({
    engine: { addAudioTap: (ccid, tap) => (byCcid.get(ccid) as { audio: LegAudio }).audio.addTap(tap), play: () => undefined },
    repository, dir: liveDir, media: recordingMedia(() => undefined), publish: () => undefined, findLeg: () => undefined,
    urls: () => ({ recording_urls: {}, public_recording_urls: {} }), transcribe: () => Promise.reject(new Error('none')),
    clock: { now: () => Date.now(), setTimer: () => ({ cancel: () => undefined }) } as never,
    ids: { uuid: () => crypto.randomUUID(), callControlId: () => crypto.randomUUID() }, log: () => undefined,
  });
  const request = { format: 'wav' as const, channels, track: 'both' as const, customFileName: null, options: { maxLengthSecs: 0, timeoutSecs: 0, trimSilence: false, playBeep: false, transcription: null } };
  const ids = [...sets.recording, ...sets.paused].map((l) => service.start(l.record, request));
  for (const l of sets.paused) for (const id of service.select(l.record.callControlId, undefined)) service.pause(id);
  const pass = async (set: ReturnType<typeof makeLegs>): Promise<void> => {
    // As the media pass does: every leg sends, then every leg plays out what it received;
    // full spool buffers are written in a microtask after the pass.
    for (let i = 0; i < set.length; i++) (set[i] as { rtp: StandInRtp }).rtp.pull?.();
    for (let i = 0; i < set.length; i++) {
      const leg = set[i] as (typeof set)[number];
      leg.tick();
      leg.rtp.onFrame?.(leg.played, 'audio');
    }
    await Promise.resolve();
  };
  const states: LiveState[] = ['recording', 'paused', 'none'];
  for (const state of states) for (let t = 0; t < 100; t++) await pass(sets[state]);
  const cpuUs: Record<LiveState, number> = { recording: 0, paused: 0, none: 0 };
  const passes: Record<LiveState, number> = { recording: 0, paused: 0, none: 0 };
  const blockMs = 250;
  for (let block = 0; block < Math.ceil((seconds * 1000) / blockMs); block++) {
    for (const state of states) {
      const set = sets[state];
      const before = process.cpuUsage();
      const end = performance.now() + blockMs;
      let n = 0;
      while (performance.now() < end) {
        await pass(set);
        n++;
      }
      const used = process.cpuUsage(before);
      cpuUs[state] += used.user + used.system;
      passes[state] += n;
    }
  }
  for (const id of ids) service.stop(id);
  await service.idle();
  rmSync(liveDir, { recursive: true, force: true });
  const perLegTick = (state: LiveState): number => round3(cpuUs[state] / passes[state] / legs);
  return { recording: perLegTick('recording'), paused: perLegTick('paused'), none: perLegTick('none') };
}

async function appendAndFinalize(inbound: Int16Array, outbound: Int16Array): Promise<Record<string, unknown>> {
  const append = {
    single: await benchAppend('single', 'both', inbound, outbound),
    dual: await benchAppend('dual', 'both', inbound, outbound),
    inboundOnly: await benchAppend('single', 'inbound', inbound, outbound),
    singleBatched: await benchAppend('single', 'both', inbound, outbound, true),
    dualBatched: await benchAppend('dual', 'both', inbound, outbound, true),
  };
  const vadUsPerFrame = benchVad(inbound);
  const finalizeMsPerMinute = {
    wavMono: benchFinalize('single', 'wav', false, inbound, outbound),
    wavStereo: benchFinalize('dual', 'wav', false, inbound, outbound),
    wavMonoTrim: benchFinalize('single', 'wav', true, inbound, outbound),
    wavStereoTrim: benchFinalize('dual', 'wav', true, inbound, outbound),
    mp3Mono: benchFinalize('single', 'mp3', false, inbound, outbound),
    mp3Stereo: benchFinalize('dual', 'mp3', false, inbound, outbound),
  };
  // Share of one core: live work per 20 ms tick, plus finalisation spread over the recording.
  const FRAME_US = 20_000;
  const MINUTE_MS = 60_000;
  const configurations = {
    singleWav: { live: append.single.usPerFrame / FRAME_US, finalize: finalizeMsPerMinute.wavMono / MINUTE_MS },
    dualWav: { live: append.dual.usPerFrame / FRAME_US, finalize: finalizeMsPerMinute.wavStereo / MINUTE_MS },
    singleMp3: { live: append.single.usPerFrame / FRAME_US, finalize: finalizeMsPerMinute.mp3Mono / MINUTE_MS },
    dualMp3: { live: append.dual.usPerFrame / FRAME_US, finalize: finalizeMsPerMinute.mp3Stereo / MINUTE_MS },
    dualMp3TrimWithTimeout: {
      live: (append.dual.usPerFrame + vadUsPerFrame) / FRAME_US,
      finalize: (finalizeMsPerMinute.mp3Stereo + finalizeMsPerMinute.wavStereoTrim - finalizeMsPerMinute.wavStereo) / MINUTE_MS,
    },
  };
  const projected = Object.fromEntries(
    Object.entries(configurations).map(([name, c]) => [
      name,
      {
        perCallPct: pct(c.live + c.finalize),
        calls100: {
          mediaThreadPctOfCore: pct(100 * c.live),
          finalizeWorkersPctOfCore: pct(100 * c.finalize),
          totalPctOfCore: pct(100 * (c.live + c.finalize)),
        },
      },
    ]),
  );
  return {
    appendUsPerFrame: {
      single: append.single.usPerFrame,
      dual: append.dual.usPerFrame,
      inboundOnly: append.inboundOnly.usPerFrame,
    },
    // CPU (user + system) rather than wall time: what other processes take does not count.
    appendCpuUsPerFrame: {
      single: append.single.cpuUsPerFrame,
      dual: append.dual.cpuUsPerFrame,
      inboundOnly: append.inboundOnly.cpuUsPerFrame,
      // With a SpoolWriteBatch, as the server runs them (writes after each round).
      singleBatched: append.singleBatched.cpuUsPerFrame,
      dualBatched: append.dualBatched.cpuUsPerFrame,
    },
    gcsDuringAppend: append.single.gcs + append.dual.gcs + append.inboundOnly.gcs,
    gcsDuringBatchedAppend: append.singleBatched.gcs + append.dualBatched.gcs,
    vadUsPerFrame,
    finalizeCpuMsPerMinuteOfAudio: finalizeMsPerMinute,
    projected,
  };
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const pct = (v: number): number => Math.round(v * 10000) / 100;

try {
  const { inbound, outbound, source } = await material();
  const report: Record<string, unknown> = { benchmark: 'recording', node: process.version, audio: source, spoolsAppendedRoundRobin: spoolCount };
  if (sections.has('append') || sections.has('finalize')) Object.assign(report, await appendAndFinalize(inbound, outbound));
  if (sections.has('live')) {
    const live = { single: await benchLive('single', inbound, outbound, spoolCount, appendSeconds), dual: await benchLive('dual', inbound, outbound, spoolCount, appendSeconds) };
    const added = (r: Record<LiveState, number>) => ({ ...r, recordingLessNone: round3(r.recording - r.none), pausedLessNone: round3(r.paused - r.none) });
    // CPU µs per leg per 20 ms tick; a tick of a call costs 1.5–2 ms per second / 50 = 30–40 µs in the server.
    report['liveCpuUsPerLegTick'] = { single: added(live.single), dual: added(live.dual) };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
