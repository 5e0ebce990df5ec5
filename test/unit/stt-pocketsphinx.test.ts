import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { concatPcm } from '../../src/speech/tts/pcm.js';
import { toEngineFormat } from '../../src/media/audio/resample.js';
import { parseWav } from '../../src/media/audio/wav.js';
import { isSttError } from '../../src/speech/stt/errors.js';
import { PocketsphinxProvider } from '../../src/speech/stt/pocketsphinx.js';
import { phraseWords } from '../../src/speech/stt/grammar.js';
import { recognisersRunning } from '../helpers/recognise.js';
import type { SttStreamResult } from '../../src/speech/stt/provider.js';

const run = promisify(execFile);
const pocketsphinx = await PocketsphinxProvider.detect();
const fliteInstalled = spawnSync('flite', ['--version']).error === undefined;
const skip =
  pocketsphinx === null
    ? 'pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)'
    : !fliteInstalled
      ? 'flite is not installed (apt-get install flite)'
      : false;

const MENU = ['Billing', 'Technical support', 'Sales', 'Cancel my account', 'Speak to an operator'];

/** Share of `expected`'s words that the transcript contains. */
function wordsFound(expected: string, transcript: string): number {
  const heard = new Set(phraseWords(transcript));
  const words = phraseWords(expected);
  return words.filter((w) => heard.has(w)).length / words.length;
}


function silence(seconds: number): Int16Array {
  return new Int16Array(Math.round(seconds * 8000));
}


describe('pocketsphinx provider', { skip }, () => {
  const provider = pocketsphinx as PocketsphinxProvider;
  let dir = '';
  let counter = 0;

  /** `text` spoken by a flite voice (16 kHz), in engine format: 8 kHz, as on a call. */
  async function speak(text: string, voice = 'rms'): Promise<Int16Array> {
    const file = join(dir, `speech-${counter++}.wav`);
    await run('flite', ['-voice', voice, '-t', text, '-o', file]);
    const audio = parseWav(await readFile(file));
    return toEngineFormat(audio.samples, audio.sampleRate);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stt-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('takes English only', async () => {
    assert.equal(provider.supports('en'), true);
    assert.equal(provider.supports('en-US'), true);
    assert.equal(provider.supports('en-GB'), true);
    assert.equal(provider.supports('de-DE'), false);
    await assert.rejects(provider.transcribe(silence(1), { language: 'de-DE' }), { name: 'SttError', code: 'unsupported_language' });
    assert.throws(() => provider.stream({ language: 'fr' }), { code: 'unsupported_language' });
  });

  it('transcribes telephone-quality speech, most key words right', async () => {
    const sentences = ['I need to speak with someone about my bill', 'The package was delivered to the wrong address'];
    for (const sentence of sentences) {
      const transcript = await provider.transcribe(await speak(sentence), { language: 'en-US' });
      const found = wordsFound(sentence, transcript.text);
      assert.ok(found >= 0.6, `"${transcript.text}" has ${Math.round(found * 100)}% of "${sentence}"`);
      assert.ok(transcript.confidence !== undefined && transcript.confidence > 0 && transcript.confidence <= 1, `confidence ${transcript.confidence}`);
    }
  });

  it('recognises a menu choice with a grammar and names the phrase as given', async () => {
    const speech = await speak('technical support', 'slt');
    const transcript = await provider.transcribe(speech, { language: 'en-US', grammar: MENU });
    assert.deepEqual(transcript, { text: 'technical support', phrase: 'Technical support' });
    const number = await provider.transcribe(await speak('two'), { language: 'en', grammar: ['1', '2', '3'] });
    assert.equal(number.phrase, '2');
  });

  it('drops grammar phrases with unknown words, and fails when none is left', async () => {
    const transcript = await provider.transcribe(await speak('sales', 'slt'), { language: 'en', grammar: ['Zorbleflax', 'Sales'] });
    assert.equal(transcript.phrase, 'Sales');
    await assert.rejects(provider.transcribe(silence(1), { language: 'en', grammar: ['Zorbleflax', 'Quuxotron'] }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal((error as { code?: string }).code, 'invalid_grammar');
      assert.match(error.message, /"zorbleflax", "quuxotron"/);
      return true;
    });
    await assert.rejects(provider.transcribe(silence(1), { language: 'en', grammar: [' ', '?'] }), { code: 'invalid_grammar', message: /no phrases/ });
  });

  it('hears nothing in silence and does not run for empty audio', async () => {
    assert.deepEqual(await provider.transcribe(new Int16Array(0), { language: 'en' }), { text: '' });
    assert.equal((await provider.transcribe(silence(1), { language: 'en' })).text, '');
  });

  it('kills the process when the caller aborts', async () => {
    const speech = await speak('Please transfer me to the billing department. Thank you very much.');
    const controller = new AbortController();
    const pending = provider.transcribe(concatPcm([speech, speech, speech]), { language: 'en', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('call hung up')), 150);
    await assert.rejects(pending, { message: 'call hung up' });
    assert.equal(await recognisersRunning(), 0);
  });

  it('times out with provider_timeout', async () => {
    const quick = new PocketsphinxProvider({ command: provider.files.command, timeoutMs: 50 });
    await assert.rejects(quick.transcribe(await speak('hello there'), { language: 'en' }), { code: 'provider_timeout', message: /50 ms/ });
    assert.equal(await recognisersRunning(), 0);
  });

  it('reports a failing program as provider_error', async () => {
    const broken = new PocketsphinxProvider({ command: provider.files.command, hmm: join(dir, 'no-such-model') });
    await assert.rejects(broken.transcribe(await speak('hello'), { language: 'en' }), { code: 'provider_error', message: /exited with code/ });
  });

  it('streams: one final result per utterance, each soon after it ends', async () => {
    const first = await speak('technical support', 'slt');
    const second = await speak('cancel my account', 'slt');
    const stream = provider.stream({ language: 'en-US', grammar: MENU });
    const results: Array<SttStreamResult & { atFrame: number }> = [];
    let frame = 0;
    const reading = (async () => {
      for await (const result of stream) results.push({ ...result, atFrame: frame });
    })();
    // 20 ms frames at four times real time (5 ms apart), so that results can arrive between them.
    const audio = concatPcm([silence(0.3), first, silence(1.2), second, silence(1.2)]);
    for (let at = 0; at < audio.length; at += 160, frame++) {
      stream.write(audio.subarray(at, at + 160));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const framesFed = frame;
    stream.end();
    await reading;
    assert.deepEqual(
      results.map((r) => [r.text, r.final, r.phrase]),
      [
        ['technical support', true, 'Technical support'],
        ['cancel my account', true, 'Cancel my account'],
      ],
    );
    // The first utterance was over long before the audio was.
    assert.ok((results[0]?.atFrame ?? framesFed) < framesFed - 50, `first result after frame ${results[0]?.atFrame} of ${framesFed}`);
  });

  it('stops a stream on close and on abort', async () => {
    const stream = provider.stream({ language: 'en' });
    stream.write(await speak('hello'));
    const reading = (async () => {
      const seen: SttStreamResult[] = [];
      for await (const result of stream) seen.push(result);
      return seen;
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.close();
    assert.deepEqual(await reading, []);

    const controller = new AbortController();
    const aborted = provider.stream({ language: 'en', signal: controller.signal });
    aborted.write(silence(0.5));
    setTimeout(() => controller.abort(), 200);
    for await (const result of aborted) assert.fail(`unexpected result ${result.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await recognisersRunning(), 0);
  });

  it('takes a whole JSGF grammar for a stream, and refuses streams beyond maxStreams with busy', async () => {
    const limited = (await PocketsphinxProvider.detect({ maxStreams: 1 })) as PocketsphinxProvider;
    const digits = '#JSGF V1.0;\ngrammar digits;\npublic <digits> = ( one | two | three | four | five | six | seven | eight | nine | zero )+;\n';
    const stream = limited.stream({ language: 'en-US', jsgf: digits });
    assert.throws(() => limited.stream({ language: 'en-US' }), (error: unknown) => isSttError(error, 'busy'));
    const reading = (async () => {
      const texts: string[] = [];
      for await (const result of stream) texts.push(result.text);
      return texts;
    })();
    stream.write(concatPcm([silence(0.3), await speak('four two seven one'), silence(0.5)]));
    stream.end();
    assert.deepEqual(await reading, ['four two seven one']);
    // Its place is free again once it is over.
    limited.stream({ language: 'en-US' }).close();
  });
});

describe('pocketsphinx detection', () => {
  it('is null when the program or the model is missing', async () => {
    assert.equal(await PocketsphinxProvider.detect({ command: '/nonexistent/pocketsphinx_continuous' }), null);
    assert.equal(await PocketsphinxProvider.detect({ modelDir: '/nonexistent/model' }), null);
  });

  it('is looked up once per configuration', async () => {
    assert.equal(await PocketsphinxProvider.detect(), await PocketsphinxProvider.detect());
  });
});
