/**
 * Decoding playback audio into engine format: wall time per file and the longest stall of the
 * event loop while it runs (the media clock shares the thread, so stalls matter more than totals).
 * Fixtures are synthesised with sox and lame into a temporary directory. Prints one JSON object.
 *
 *   npx tsx bench/audio-decode.ts [seconds=60] [runs=3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeAudio } from '../src/media/audio/decode.js';

const seconds = Number(process.argv[2] ?? 60);
const runs = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'audio-bench-'));

function make(name: string, soxArgs: string[], lameArgs?: string[]): Uint8Array {
  const wav = join(dir, `${name}.wav`);
  execFileSync('sox', ['-n', ...soxArgs, wav, 'synth', String(seconds), 'sine', '440', 'sine', '1000', 'vol', '0.5']);
  if (lameArgs === undefined) return new Uint8Array(readFileSync(wav));
  const mp3 = join(dir, `${name}.mp3`);
  execFileSync('lame', ['--silent', ...lameArgs, wav, mp3]);
  return new Uint8Array(readFileSync(mp3));
}

const files: Record<string, Uint8Array> = {
  'wav 8k mono s16': make('w8', ['-r', '8000', '-c', '1', '-b', '16']),
  'wav 16k mono s16': make('w16', ['-r', '16000', '-c', '1', '-b', '16']),
  'wav 44.1k stereo s16': make('w44', ['-r', '44100', '-c', '2', '-b', '16']),
  'mp3 44.1k stereo 128k': make('m44', ['-r', '44100', '-c', '2', '-b', '16'], ['-b', '128']),
  'mp3 22.05k mono 48k': make('m22', ['-r', '22050', '-c', '1', '-b', '16'], ['-b', '48']),
};

const results: Record<string, { bytes: number; bestMs: number; medianMs: number; maxStallMs: number; xRealtime: number }> = {};
for (const [name, bytes] of Object.entries(files)) {
  const times: number[] = [];
  let maxStall = 0;
  for (let run = 0; run <= runs; run++) {
    let last = performance.now();
    let stall = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 1);
    const start = performance.now();
    await decodeAudio(bytes);
    const elapsed = performance.now() - start;
    clearInterval(probe);
    stall = Math.max(stall, performance.now() - last);
    if (run === 0) continue; // warm-up: JIT and wasm compilation
    times.push(elapsed);
    maxStall = Math.max(maxStall, stall);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] as number;
  results[name] = {
    bytes: bytes.length,
    bestMs: Math.round((times[0] as number) * 10) / 10,
    medianMs: Math.round(median * 10) / 10,
    maxStallMs: Math.round(maxStall * 10) / 10,
    xRealtime: Math.round((seconds * 1000) / median),
  };
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ seconds, runs, results }, null, 2));
