import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { speechChunks, splitSentences } from '../../src/speech/sentences.js';

describe('splitSentences', () => {
  it('splits at sentence ends followed by a capital or a digit', () => {
    assert.deepEqual(splitSentences('Thanks. Anything else?'), ['Thanks.', 'Anything else?']);
    assert.deepEqual(splitSentences('Hello!  How are you?  I am fine.'), ['Hello!', 'How are you?', 'I am fine.']);
    assert.deepEqual(splitSentences('Your total is due. 3 payments remain.'), ['Your total is due.', '3 payments remain.']);
  });

  it('keeps abbreviations, decimals and lower-case continuations inside a sentence', () => {
    assert.deepEqual(splitSentences('Dr. Smith will call at 3.30 today. Mr. Brown will not.'), ['Dr. Smith will call at 3.30 today.', 'Mr. Brown will not.']);
    assert.deepEqual(splitSentences('It costs approx. ten dollars, i.e. not much.'), ['It costs approx. ten dollars, i.e. not much.']);
  });

  it('returns text without a sentence end whole, and nothing for blank text', () => {
    assert.deepEqual(splitSentences('one moment please'), ['one moment please']);
    assert.deepEqual(splitSentences('   '), []);
  });
});

describe('speechChunks', () => {
  it('cuts a short opening clause off a long first sentence, so the first audio comes sooner', () => {
    assert.deepEqual(speechChunks('Thanks, that is noted as item 3. Is there anything else?'), ['Thanks,', 'that is noted as item 3.', 'Is there anything else?']);
    assert.deepEqual(speechChunks('Sure thing: your card is on its way.'), ['Sure thing:', 'your card is on its way.']);
  });

  it('leaves sentences whole when the clause is long or the rest is short', () => {
    assert.deepEqual(speechChunks('One two three four five six seven, eight nine ten eleven.'), ['One two three four five six seven, eight nine ten eleven.']);
    assert.deepEqual(speechChunks('Sure, thank you.'), ['Sure, thank you.']);
    assert.deepEqual(speechChunks('Hi, how can I help?'), ['Hi, how can I help?']);
    assert.deepEqual(speechChunks('Thanks. Anything else?'), ['Thanks.', 'Anything else?']);
    assert.deepEqual(speechChunks(''), []);
  });
});
