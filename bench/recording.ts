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
 *    per call.
 *
 *   npx tsx bench/recording.ts [appendSeconds=2] [spools=100]
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

const appendSeconds = Number(process.argv[2] ?? 2);
const spoolCount = Number(process.argv[3] ?? 100);
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

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const pct = (v: number): number => Math.round(v * 10000) / 100;

try {
  const { inbound, outbound, source } = await material();
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
  process.stdout.write(
    `${JSON.stringify({
      benchmark: 'recording',
      node: process.version,
      audio: source,
      spoolsAppendedRoundRobin: spoolCount,
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
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
