/** Measurements of 8 kHz PCM for tests: where there is sound, and which tones it holds. */
const RATE = 8000;
const WINDOW = 160;

/** Power of `frequency` in pcm[from, to) relative to the signal's total power there (0..1). */
export function toneShare(pcm: Int16Array, frequency: number, fromMs = 0, toMs = (pcm.length / RATE) * 1000): number {
  const from = Math.max(0, Math.floor((fromMs * RATE) / 1000));
  const to = Math.min(pcm.length, Math.floor((toMs * RATE) / 1000));
  const n = to - from;
  if (n <= 0) return 0;
  const w = (2 * Math.PI * frequency) / RATE;
  let re = 0;
  let im = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm[from + i] as number;
    re += x * Math.cos(w * i);
    im -= x * Math.sin(w * i);
    total += x * x;
  }
  if (total === 0) return 0;
  return (2 * (re * re + im * im)) / n / total;
}

/** Spans (ms) where 20 ms windows are louder than `thresholdRms`, merging gaps shorter than `bridgeMs`. */
export function soundSpans(pcm: Int16Array, thresholdRms = 300, bridgeMs = 60): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let at = 0; at + WINDOW <= pcm.length; at += WINDOW) {
    let sum = 0;
    for (let i = 0; i < WINDOW; i++) sum += (pcm[at + i] as number) ** 2;
    if (Math.sqrt(sum / WINDOW) < thresholdRms) continue;
    const start = (at / RATE) * 1000;
    const end = start + (WINDOW / RATE) * 1000;
    const last = spans.at(-1);
    if (last && start - last[1] <= bridgeMs) last[1] = end;
    else spans.push([start, end]);
  }
  return spans;
}

/** Total duration (ms) of the spans. */
export function soundMs(pcm: Int16Array, thresholdRms = 300): number {
  return soundSpans(pcm, thresholdRms).reduce((sum, [a, b]) => sum + (b - a), 0);
}
