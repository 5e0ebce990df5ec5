import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamingUpsampler, engineAudioAt } from '../../src/speech/stt/audio.js';
import { compileGrammar, numberWords, phraseWords } from '../../src/speech/stt/grammar.js';
import { parsePocketsphinxOutput } from '../../src/speech/stt/pocketsphinx.js';
import { corpusWordErrorRate, wordErrors } from '../../src/speech/stt/word-error-rate.js';

describe('grammar phrases', () => {
  it('spells numbers as people say them', () => {
    assert.deepEqual(numberWords('0'), ['zero']);
    assert.deepEqual(numberWords('7'), ['seven']);
    assert.deepEqual(numberWords('42'), ['forty', 'two']);
    assert.deepEqual(numberWords('110'), ['one', 'hundred', 'ten']);
    assert.deepEqual(numberWords('1500'), ['one', 'thousand', 'five', 'hundred']);
    assert.deepEqual(numberWords('20000'), ['twenty', 'thousand']);
    // Long numbers and leading zeros are read digit by digit, like account numbers.
    assert.deepEqual(numberWords('0044'), ['zero', 'zero', 'four', 'four']);
    assert.deepEqual(numberWords('5551234'), ['five', 'five', 'five', 'one', 'two', 'three', 'four']);
  });

  it('normalises phrases to dictionary words', () => {
    assert.deepEqual(phraseWords('Technical Support!'), ['technical', 'support']);
    assert.deepEqual(phraseWords("Don't cancel, please."), ["don't", 'cancel', 'please']);
    assert.deepEqual(phraseWords('Room 2B on the 3rd floor'), ['room', 'two', 'b', 'on', 'the', 'third', 'floor']);
    assert.deepEqual(phraseWords('21st'), ['twenty', 'first']);
    assert.deepEqual(phraseWords('Sales & marketing'), ['sales', 'and', 'marketing']);
    assert.deepEqual(phraseWords('2.5 or 1,200'), ['two', 'point', 'five', 'or', 'one', 'thousand', 'two', 'hundred']);
    assert.deepEqual(phraseWords('check-in'), ['check', 'in']);
    // A hyphenated word the dictionary has stays whole.
    assert.deepEqual(phraseWords('e-mail', (w) => w === 'e-mail'), ['e-mail']);
  });

  it('compiles a JSGF grammar of the known phrases and sets the others aside', () => {
    const known = new Set(['billing', 'technical', 'support', 'one', 'yes']);
    const grammar = compileGrammar(['Billing', 'Technical support', '1', 'Zorblax account', 'billing', '  '], (w) => known.has(w));
    assert.deepEqual(grammar.phrases, ['billing', 'technical support', 'one']);
    assert.deepEqual(grammar.given, ['Billing', 'Technical support', '1']);
    assert.deepEqual(grammar.rejected, ['Zorblax account']);
    assert.deepEqual(grammar.unknownWords, ['zorblax', 'account']);
    assert.match(grammar.jsgf ?? '', /^#JSGF V1\.0;\ngrammar switchboard;\npublic <phrase> = \( billing \)\n {2}\| \( technical support \)\n {2}\| \( one \);\n$/);
  });

  it('has no grammar when no phrase is usable', () => {
    const grammar = compileGrammar(['Zorblax'], () => false);
    assert.equal(grammar.jsgf, null);
    assert.deepEqual(grammar.unknownWords, ['zorblax']);
  });
});

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions against the reference', () => {
    assert.deepEqual(wordErrors('please transfer me to billing', 'please transfer me to billing'), {
      words: 5, substitutions: 0, deletions: 0, insertions: 0, rate: 0,
    });
    const e = wordErrors('please transfer me to billing', 'please trans for me billing now');
    assert.equal(e.substitutions + e.deletions + e.insertions, 4);
    assert.equal(e.rate, 4 / 5);
    const shifted = wordErrors('one two three four', 'one three four five');
    assert.deepEqual([shifted.substitutions, shifted.deletions, shifted.insertions], [0, 1, 1]);
    assert.equal(wordErrors('Yes, that is correct.', 'yes that is correct').rate, 0);
    assert.equal(wordErrors('Call 911', 'call nine hundred eleven').rate, 0);
    assert.equal(wordErrors('', '').rate, 0);
    assert.equal(wordErrors('', 'noise').rate, 1);
  });

  it('pools errors over a corpus', () => {
    const rate = corpusWordErrorRate([
      { reference: 'one two three four', hypothesis: 'one two three four' },
      { reference: 'five six', hypothesis: 'five' },
    ]);
    assert.equal(rate, 1 / 6);
  });
});

describe('pocketsphinx output', () => {
  const output = [
    'hello world',
    '<s> 0.000 0.340 0.999700',
    'hello 0.350 0.630 0.800000',
    '[NOISE] 0.640 0.700 0.100000',
    'world(2) 0.710 1.300 0.600000',
    '</s> 1.310 1.400 1.000000',
    'goodbye',
    'goodbye 2.000 2.500 0.400000',
    '',
  ].join('\n');

  it('joins the utterances and averages the words’ posteriors, leaving out fillers', () => {
    assert.deepEqual(parsePocketsphinxOutput(output, true), { text: 'hello world goodbye', confidence: 0.6 });
  });

  it('leaves confidence out when asked to (grammar runs) and for silence', () => {
    assert.deepEqual(parsePocketsphinxOutput(output, false), { text: 'hello world goodbye' });
    assert.deepEqual(parsePocketsphinxOutput('', true), { text: '' });
  });
});

describe('upsampling for recognisers', () => {
  const speechLike = (n: number): Int16Array => {
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      pcm[i] = Math.round(6000 * Math.sin(i * 0.31) + 3000 * Math.sin(i * 1.7 + 1) + 1500 * Math.sin(i * 2.9));
    }
    return pcm;
  };

  for (const foldGain of [0, 0.5]) {
    it(`gives the same audio in 20 ms pieces as all at once (fold gain ${foldGain})`, () => {
      const input = speechLike(8000 + 37);
      const whole = engineAudioAt(input, 16_000, foldGain);
      const upsampler = new StreamingUpsampler(16_000, foldGain);
      const pieces: Int16Array[] = [];
      for (let at = 0; at < input.length; at += 160) pieces.push(upsampler.push(input.subarray(at, at + 160)));
      pieces.push(upsampler.flush());
      const streamed = new Int16Array(pieces.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const piece of pieces) {
        streamed.set(piece, at);
        at += piece.length;
      }
      assert.equal(streamed.length, whole.length);
      let worst = 0;
      for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs((whole[i] as number) - (streamed[i] as number)));
      // Only float rounding may differ.
      assert.ok(worst <= 1, `largest difference ${worst}`);
    });
  }

  it('fills the band above 4 kHz only when asked to', () => {
    // A 1 kHz tone; its mirror image is at 7 kHz.
    const tone = new Int16Array(8000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    const level = (pcm: Int16Array, frequency: number): number => {
      let re = 0;
      let im = 0;
      for (let i = 2000; i < 14000; i++) {
        re += (pcm[i] as number) * Math.cos((2 * Math.PI * frequency * i) / 16000);
        im += (pcm[i] as number) * Math.sin((2 * Math.PI * frequency * i) / 16000);
      }
      return Math.hypot(re, im) / 6000;
    };
    const plain = engineAudioAt(tone, 16_000);
    const folded = engineAudioAt(tone, 16_000, 0.5);
    assert.ok(level(plain, 7000) < 10, `plain 7 kHz ${level(plain, 7000)}`);
    assert.ok(Math.abs(level(plain, 1000) - 8000) < 200);
    assert.ok(Math.abs(level(folded, 7000) - 4000) < 200, `folded 7 kHz ${level(folded, 7000)}`);
    assert.ok(Math.abs(level(folded, 1000) - 8000) < 200, `folded 1 kHz ${level(folded, 1000)}`);
  });
});
