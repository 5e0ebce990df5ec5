import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtsError } from '../../src/speech/tts/errors.js';
import { planSpeech, type SpeechPlan } from '../../src/speech/tts/ssml.js';
import { splitSentences } from '../../src/speech/tts/text-chunks.js';

const ssml = (payload: string, language?: string): SpeechPlan =>
  planSpeech(payload, 'ssml', language === undefined ? {} : { language });

function assertInvalid(payload: string, pattern: RegExp): void {
  assert.throws(
    () => ssml(payload),
    (error: unknown) => {
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'invalid_ssml');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('speech plan: plain text', () => {
  it('is one stretch at normal rate, with whitespace collapsed', () => {
    assert.deepEqual(planSpeech('  Hello\n  world  ', 'text'), [{ text: 'Hello world', rate: 1 }]);
  });

  it('leaves markup-looking text alone', () => {
    assert.deepEqual(planSpeech('1 < 2 & <b>', 'text'), [{ text: '1 < 2 & <b>', rate: 1 }]);
  });

  it('is empty for blank text', () => {
    assert.deepEqual(planSpeech('   ', 'text'), []);
  });
});

describe('speech plan: SSML', () => {
  it('<speak> with text', () => {
    assert.deepEqual(ssml('<speak>Hello there</speak>'), [{ text: 'Hello there', rate: 1 }]);
  });

  it('<break time> in ms and s, clamped to 10 s', () => {
    assert.deepEqual(ssml('<speak>a<break time="500ms"/>b<break time="2s"/>c<break time="1.5s"></break>d</speak>'), [
      { text: 'a', rate: 1 },
      { pauseMs: 500 },
      { text: 'b', rate: 1 },
      { pauseMs: 2000 },
      { text: 'c', rate: 1 },
      { pauseMs: 1500 },
      { text: 'd', rate: 1 },
    ]);
    assert.deepEqual(ssml('<speak>a<break time="60s"/>b</speak>')[1], { pauseMs: 10_000 });
  });

  it('<break strength> and the default medium break', () => {
    assert.deepEqual(ssml('<speak>a<break strength="x-strong"/>b<break/>c <break strength="none"/> d</speak>'), [
      { text: 'a', rate: 1 },
      { pauseMs: 1000 },
      { text: 'b', rate: 1 },
      { pauseMs: 400 },
      { text: 'c d', rate: 1 },
    ]);
  });

  it('explicit breaks in a row add up, and are kept at the start and end', () => {
    assert.deepEqual(ssml('<speak><break time="300ms"/>x <break time="1s"/> <break time="1s"/> y<break time="200ms"/></speak>'), [
      { pauseMs: 300 },
      { text: 'x', rate: 1 },
      { pauseMs: 2000 },
      { text: 'y', rate: 1 },
      { pauseMs: 200 },
    ]);
  });

  it('<s> and <p> pause between sentences and paragraphs, not before the first or after the last', () => {
    assert.deepEqual(ssml('<speak><p><s>One.</s><s>Two.</s></p> <p>Three.</p></speak>'), [
      { text: 'One.', rate: 1 },
      { pauseMs: 400 },
      { text: 'Two.', rate: 1 },
      { pauseMs: 700 },
      { text: 'Three.', rate: 1 },
    ]);
  });

  it('a break next to a sentence boundary does not stack on it', () => {
    assert.deepEqual(ssml('<speak><s>One.</s><break time="1s"/><s>Two.</s></speak>'), [
      { text: 'One.', rate: 1 },
      { pauseMs: 1000 },
      { text: 'Two.', rate: 1 },
    ]);
  });

  it('say-as digits reads each digit', () => {
    assert.deepEqual(ssml('<speak>Code <say-as interpret-as="digits">123</say-as>.</speak>'), [
      { text: 'Code one two three.', rate: 1 },
    ]);
    assert.deepEqual(ssml('<speak><say-as interpret-as="cardinal" format="digits">907</say-as></speak>'), [
      { text: 'nine zero seven', rate: 1 },
    ]);
  });

  it('say-as digits in another language leaves the naming to the engine', () => {
    assert.deepEqual(ssml('<speak><say-as interpret-as="digits">123</say-as></speak>', 'de-DE'), [{ text: '1 2 3', rate: 1 }]);
  });

  it('say-as characters and spell-out name each letter', () => {
    assert.deepEqual(ssml('<speak><say-as interpret-as="characters">abc</say-as></speak>'), [{ text: 'A B C', rate: 1 }]);
    assert.deepEqual(ssml('<speak><say-as interpret-as="spell-out">R2-D2</say-as></speak>'), [
      { text: 'R two D two', rate: 1 },
    ]);
  });

  it('say-as telephone reads digit by digit with a pause between groups', () => {
    assert.deepEqual(ssml('<speak>Call <say-as interpret-as="telephone">+1 555 0100</say-as></speak>'), [
      { text: 'Call plus one', rate: 1 },
      { pauseMs: 250 },
      { text: 'five five five', rate: 1 },
      { pauseMs: 250 },
      { text: 'zero one zero zero', rate: 1 },
    ]);
    const grouped = ssml('<speak><say-as interpret-as="telephone">2125550100</say-as></speak>');
    assert.deepEqual(grouped.filter((item) => 'text' in item).map((item) => ('text' in item ? item.text : '')), [
      'two one two',
      'five five five',
      'zero one zero zero',
    ]);
  });

  it('say-as kinds engines read well are left as text', () => {
    assert.deepEqual(ssml('<speak><say-as interpret-as="date" format="mdy">12/25/2025</say-as></speak>'), [
      { text: '12/25/2025', rate: 1 },
    ]);
  });

  it('<prosody rate> keywords and percentages, nesting multiplies', () => {
    assert.deepEqual(ssml('<speak>a <prosody rate="slow">b <prosody rate="50%">c</prosody></prosody> <prosody rate="x-fast">d</prosody> <prosody rate="+20%">e</prosody> <prosody rate="-50%">f</prosody></speak>'), [
      { text: 'a', rate: 1 },
      { text: 'b', rate: 0.8 },
      { text: 'c', rate: 0.4 },
      { text: 'd', rate: 1.5 },
      { text: 'e', rate: 1.2 },
      { text: 'f', rate: 0.5 },
    ]);
  });

  it('<sub alias> speaks the alias', () => {
    assert.deepEqual(ssml('<speak><sub alias="Switchboard">SB</sub> is up</speak>'), [{ text: 'Switchboard is up', rate: 1 }]);
  });

  it('drops unknown and vendor tags but keeps their text', () => {
    assert.deepEqual(
      ssml('<speak><amazon:effect name="whispered">quiet</amazon:effect> <emphasis level="strong">loud</emphasis> <foo bar="1">baz</foo><mark name="m"/></speak>'),
      [{ text: 'quiet loud baz', rate: 1 }],
    );
  });

  it('skips the XML declaration, comments and doctype; reads CDATA and entities', () => {
    assert.deepEqual(
      ssml('<?xml version="1.0"?><!DOCTYPE speak><speak xmlns="http://www.w3.org/2001/10/synthesis"><!-- hi -->Tom &amp; Jerry &lt;3 &#65;&#x42; <![CDATA[x < y]]></speak>'),
      [{ text: 'Tom & Jerry <3 AB x < y', rate: 1 }],
    );
  });

  it('tolerates a bare ampersand, unknown entities and a missing <speak>', () => {
    assert.deepEqual(ssml('AT&T&nbsp;rocks'), [{ text: 'AT&T&nbsp;rocks', rate: 1 }]);
    assert.deepEqual(ssml("Hi <break time='1s'/> there"), [{ text: 'Hi', rate: 1 }, { pauseMs: 1000 }, { text: 'there', rate: 1 }]);
  });

  it('rejects malformed SSML with invalid_ssml', () => {
    assertInvalid('<speak>Hello', /<speak> is never closed/);
    assertInvalid('<speak>Hello</speek>', /does not close <speak>/);
    assertInvalid('<speak><p>Hello</speak></p>', /does not close <p>/);
    assertInvalid('Hello</speak>', /closes nothing/);
    assertInvalid('<speak>1 < 2</speak>', /does not start a tag/);
    assertInvalid('<speak><!-- open</speak>', /unterminated comment/);
    assertInvalid('<speak a="1></speak>', /does not start a tag/);
  });

  it('rejects break and prosody values it cannot interpret', () => {
    assertInvalid('<speak><break time="soon"/></speak>', /break time="soon"/);
    assertInvalid('<speak><break strength="huge"/></speak>', /break strength="huge"/);
    assertInvalid('<speak><prosody rate="warp">x</prosody></speak>', /prosody rate="warp"/);
    assertInvalid('<speak><prosody rate="0%">x</prosody></speak>', /stop speech/);
  });
});

describe('sentence splitting for long text', () => {
  it('splits at sentence ends, not at abbreviations, initials or decimals', () => {
    assert.deepEqual(splitSentences('Hello Dr. Smith. Your balance is $3.50! Is that right? "Yes." he said. Ask J. Doe'), [
      'Hello Dr. Smith.',
      'Your balance is $3.50!',
      'Is that right?',
      '"Yes." he said.',
      'Ask J. Doe',
    ]);
  });

  it('cuts an over-long sentence at a comma or a space', () => {
    const pieces = splitSentences('alpha beta, '.repeat(40), 100);
    assert.ok(pieces.length > 1);
    for (const piece of pieces) assert.ok(piece.length <= 100, `${piece.length} characters`);
    assert.equal(pieces.join(' ').replace(/\s+/g, ' '), 'alpha beta, '.repeat(40).trim());
  });
});
