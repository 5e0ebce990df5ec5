import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FormEngine } from '../../src/ai/forms/engine.js';
import { formGrammarJsgf, grammarForSchema } from '../../src/ai/forms/grammar.js';
import { parseSpokenNumber } from '../../src/ai/forms/numbers.js';
import { parseYesNo } from '../../src/ai/forms/yes-no.js';
import { encodeWav, parseWav } from '../../src/media/audio/wav.js';
import { engineAudioAt } from '../../src/speech/stt/audio.js';
import { loadDictionaryWords } from '../../src/speech/stt/grammar.js';

const FORM = {
  type: 'object',
  properties: {
    account_number: { type: 'integer', minimum: 0, description: 'Your account number' },
    confirmed: { type: 'boolean', description: 'Whether you confirm the order' },
    colour: { type: 'string', enum: ['red', 'dark_blue', 'Green'] },
    price: { type: 'number' },
    day: { type: 'string', format: 'date' },
    pin: { type: 'string', pattern: '^\\+?[0-9]{4,}$' },
    email: { type: 'string', format: 'email' },
    note: { type: 'string' },
  },
  required: ['account_number', 'confirmed', 'colour', 'price', 'day', 'pin', 'email', 'note'],
};

describe('form grammar', () => {
  it('gives yes/no phrases for booleans', () => {
    const grammar = grammarForSchema(FORM, 'confirmed');
    assert.equal(grammar.field, 'confirmed');
    assert.equal(grammar.mode, 'phrases');
    for (const phrase of ['yes', 'yeah', "that's right", 'no', 'nope', 'not really']) assert.ok(grammar.phrases.includes(phrase), phrase);
    assert.ok(grammar.words.includes('right'));
    // Every grammar phrase is one the engine understands, with the right meaning.
    for (const phrase of grammar.phrases) assert.notEqual(parseYesNo(phrase), null, phrase);
  });

  it('gives enum values as phrases, spelled as people say them', () => {
    const grammar = grammarForSchema(FORM, 'colour');
    assert.equal(grammar.mode, 'phrases');
    assert.deepEqual(grammar.phrases, ['red', 'dark blue', 'Green']);
    assert.deepEqual(grammar.words, ['red', 'dark', 'blue', 'green']);
    assert.ok(grammar.fillers.includes('the'));
  });

  it('gives digit and number words for numbers, as a sequence', () => {
    const grammar = grammarForSchema(FORM, 'account_number');
    assert.equal(grammar.mode, 'sequence');
    assert.deepEqual(grammar.phrases, []);
    for (const word of ['zero', 'oh', 'one', 'nine', 'twelve', 'forty', 'hundred', 'thousand', 'double']) assert.ok(grammar.words.includes(word), word);
    // minimum 0: no negative numbers; integers: no decimal point.
    assert.ok(!grammar.words.includes('minus'));
    assert.ok(!grammar.words.includes('point'));
    assert.ok(grammarForSchema(FORM, 'price').words.includes('point'));
    assert.ok(grammarForSchema(FORM, 'price').words.includes('minus'));
    assert.ok(grammarForSchema(FORM, 'pin').words.includes('plus'));
    assert.ok(grammar.fillers.includes('um'));
  });

  it('gives months, weekdays, ordinals and number words for dates', () => {
    const grammar = grammarForSchema(FORM, 'day');
    assert.equal(grammar.mode, 'sequence');
    for (const word of ['march', 'friday', 'fifth', 'twenty', 'first', 'tomorrow', 'of']) assert.ok(grammar.words.includes(word), word);
  });

  it('has no grammar for free text; hints for email', () => {
    assert.equal(grammarForSchema(FORM, 'note').mode, 'open');
    assert.deepEqual(grammarForSchema(FORM, 'note').words, []);
    const email = grammarForSchema(FORM, 'email');
    assert.equal(email.mode, 'open');
    assert.ok(email.words.includes('at') && email.words.includes('dot'));
    assert.equal(formGrammarJsgf(email), null);
  });

  it('covers the whole form in the loosest mode any field needs', () => {
    const whole = grammarForSchema(FORM);
    assert.equal(whole.field, null);
    assert.equal(whole.mode, 'open');
    assert.ok(whole.words.includes('march') && whole.words.includes('yes') && whole.words.includes('blue'));
    const closed = grammarForSchema({ type: 'object', properties: { a: { type: 'boolean' }, b: { enum: ['x', 'y'] } } });
    assert.equal(closed.mode, 'phrases');
    assert.ok(closed.phrases.includes('yes') && closed.phrases.includes('x'));
    assert.equal(grammarForSchema({ type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'integer' } } }).mode, 'sequence');
    assert.throws(() => grammarForSchema(FORM, 'nothing'), /does not ask/);
  });

  it('follows the engine: the grammar for the field being asked', () => {
    const form = new FormEngine(FORM);
    assert.equal(form.grammar(), null);
    form.start();
    assert.equal(form.grammar()?.field, 'account_number');
    form.hear('4271');
    assert.equal(form.grammar()?.mode, 'phrases');
  });

  it('builds JSGF: one phrase with fillers around it', () => {
    const jsgf = formGrammarJsgf(grammarForSchema(FORM, 'colour'), { name: 'colour-form' });
    assert.equal(jsgf, [
      '#JSGF V1.0;',
      'grammar colour_form;',
      "<filler> = um | uh | please | okay | so | well | the | one | i'd | like | i | want;",
      '<answer> = ( red ) | ( dark blue ) | ( green );',
      'public <utterance> = <filler>* <answer> <filler>*;',
      '',
    ].join('\n'));
  });

  it('builds JSGF: any run of words for sequences', () => {
    const jsgf = formGrammarJsgf(grammarForSchema(FORM, 'account_number')) ?? '';
    assert.match(jsgf, /^<word> = zero \| oh \| one \| two .* \| double \| triple \| and \| a;$/m);
    assert.match(jsgf, /^public <utterance> = \( <word> \| <filler> \)\* <word> \( <word> \| <filler> \)\*;$/m);
  });

  it('leaves out words the dictionary lacks, and phrases using them', () => {
    const known = new Set(['red', 'blue', 'um', 'the']);
    const jsgf = formGrammarJsgf(grammarForSchema(FORM, 'colour'), { known: (w) => known.has(w) });
    assert.match(jsgf ?? '', /^<filler> = um \| the;$/m);
    assert.match(jsgf ?? '', /^<answer> = \( red \);$/m);
    assert.equal(formGrammarJsgf(grammarForSchema(FORM, 'colour'), { known: () => false }), null);
  });
});

const run = promisify(execFile);
const POCKETSPHINX = '/usr/bin/pocketsphinx_continuous';
const MODEL = '/usr/share/pocketsphinx/model/en-us';
const haveTool = (name: string): boolean => spawnSync('which', [name]).status === 0;
const canRecognise = existsSync(POCKETSPHINX) && existsSync(join(MODEL, 'en-us')) && haveTool('flite') && haveTool('sox');

describe('form grammar with pocketsphinx', { skip: canRecognise ? false : 'pocketsphinx, flite or sox not installed' }, () => {
  /** `text` read by flite, taken to telephone audio and back up to 16 kHz as the adapter does, then recognised with `jsgf`. */
  async function recognise(text: string, jsgf: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'form-grammar-'));
    try {
      await run('flite', ['-voice', 'rms', '-t', text, '-o', join(dir, 'voice.wav')]);
      await run('sox', [join(dir, 'voice.wav'), '-r', '8000', '-c', '1', '-b', '16', join(dir, 'call.wav')]);
      const call = parseWav(await readFile(join(dir, 'call.wav')));
      const narrow = Int16Array.from(call.samples[0] ?? [], (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
      await writeFile(join(dir, 'wide.wav'), encodeWav(engineAudioAt(narrow, 16_000, 0.5), 16_000));
      await writeFile(join(dir, 'form.jsgf'), jsgf);
      const { stdout } = await run(POCKETSPHINX, ['-infile', join(dir, 'wide.wav'), '-jsgf', join(dir, 'form.jsgf'), '-logfn', '/dev/null'], { timeout: 30_000 });
      return stdout.trim();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('accepts the grammars, and what it hears parses to the answer', async () => {
    const words = await loadDictionaryWords(join(MODEL, 'cmudict-en-us.dict'));
    const known = (w: string): boolean => words.has(w);
    const number = await recognise('four two seven one', formGrammarJsgf(grammarForSchema(FORM, 'account_number'), { known }) ?? '');
    assert.equal(parseSpokenNumber(number), 4271, number);
    const answer = await recognise('no thanks', formGrammarJsgf(grammarForSchema(FORM, 'confirmed'), { known }) ?? '');
    assert.equal(parseYesNo(answer), false, answer);
  });
});
