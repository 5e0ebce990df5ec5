/**
 * Talk-off: the detector must report no digit over ≥ 10 minutes of speech. The speech is
 * synthesised (espeak-ng, plus flite when installed) from a varied built-in text; see
 * test/helpers/speech-audio.ts. Skipped, with the reason, when no synthesiser is installed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfDetector } from '../../src/media/dsp/dtmf-detector.js';
import type { DtmfDigitEvent } from '../../src/media/dsp/dtmf-detector.js';
import { loadSpeechCorpus } from '../helpers/speech-audio.js';

describe('DtmfDetector: talk-off', () => {
  it('reports no digit over at least 10 minutes of varied speech', async (t) => {
    const corpus = await loadSpeechCorpus();
    if ('skip' in corpus) {
      t.skip(corpus.skip);
      return;
    }
    const minutes = corpus.seconds / 60;
    t.diagnostic(
      `speech: ${minutes.toFixed(1)} min, ${corpus.chunks} readings by ${corpus.tools}; ` +
        `${corpus.fromCache ? 'read from cache' : 'generated'} in ${(corpus.generationMs / 1000).toFixed(1)} s`,
    );
    assert.ok(minutes >= 10, `only ${minutes.toFixed(1)} minutes of speech`);

    const digits: DtmfDigitEvent[] = [];
    // The nearest misses, to show the margin: windows that passed every per-window test, and the
    // smallest residual any speech window left (tones leave ~0.03 at 15 dB SNR; the limit is 0.07).
    let passingWindows = 0;
    let smallestResidual = 1;
    const detector = new DtmfDetector({
      onDigit: (e) => digits.push(e),
      onAnalysis: (a) => {
        if (a.digit) passingWindows++;
        if (a.toneEnergyRatio >= 0.8 && a.residualRatio < smallestResidual) smallestResidual = a.residualRatio;
      },
    });
    const pcm = corpus.samples;
    for (let i = 0; i < pcm.length; i += 160) detector.process(pcm.subarray(i, Math.min(pcm.length, i + 160)));
    t.diagnostic(
      `false digits: ${digits.length}; windows passing every test: ${passingWindows}; ` +
        `smallest residual among tone-like windows: ${smallestResidual.toFixed(3)}`,
    );
    assert.deepEqual(
      digits.map((d) => `${d.digit} at ${(d.startSample / 8000).toFixed(2)} s`),
      [],
      'false digits in speech',
    );
  });
});
