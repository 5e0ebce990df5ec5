import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeText, interpretKeys, interpretSpeech, type AnswerContext } from '../../src/ai/forms/answers.js';
import { choiceForKeys, matchChoice } from '../../src/ai/forms/choices.js';
import { calendarDay, parseSpokenDate } from '../../src/ai/forms/dates.js';
import { parseSpokenEmail } from '../../src/ai/forms/email.js';
import { formFields, type FormField } from '../../src/ai/forms/fields.js';
import { compilePropertyCheck } from '../../src/ai/forms/validate.js';
import { parseYesNo } from '../../src/ai/forms/yes-no.js';

describe('form answers: yes and no', () => {
  const yes = ['yes', 'Yes.', 'yeah', 'yep', 'yup', 'sure', 'correct', "that's right", 'That is correct.', 'absolutely',
    'of course', 'okay', 'I do', 'yes I do', 'I confirm', 'I confirm the order', 'uh huh', 'mm hmm', 'um yeah',
    'Yes, please.', 'no problem', 'affirmative', 'true', 'no, sorry, yes', 'I don\u2019t mind'];
  const no = ['no', 'No.', 'nope', 'nah', 'negative', 'not really', 'incorrect', "that's wrong", "that's not right",
    "that isn't correct", "I don't", "I don't confirm", 'absolutely not', 'of course not', 'no thanks', 'no thank you',
    "I don't think so", 'false', 'uh no', 'yes, actually no'];
  const neither = ['banana', 'purple monkey', 'yes no', 'maybe', "I'm not sure", "I don't know", '', 'what'];
  for (const said of yes) it(`"${said}" is yes`, () => assert.equal(parseYesNo(said), true));
  for (const said of no) it(`"${said}" is no`, () => assert.equal(parseYesNo(said), false));
  it('neither yes nor no', () => {
    for (const said of neither) assert.equal(parseYesNo(said), null, said);
  });
});

describe('form answers: choices', () => {
  const colours = ['red', 'green', 'blue'];
  const cases: [string, string][] = [
    ['blue', 'blue'], ['the blue one please', 'blue'], ['Blue.', 'blue'], ['gren', 'green'], ['bleu', 'blue'],
    ['not red, blue', 'blue'], ['the second one', 'green'], ['number three', 'blue'], ['the last one', 'blue'],
    ['red, sorry, green', 'green'],
  ];
  for (const [said, expected] of cases) {
    it(`"${said}" → ${expected}`, () => {
      const match = matchChoice(said, colours);
      assert.equal(match.kind, 'match');
      assert.equal(colours[(match as { index: number }).index], expected);
    });
  }

  it('is ambiguous when two values are said or equally close', () => {
    assert.deepEqual(matchChoice('red or blue', colours), { kind: 'ambiguous', indexes: [0, 2] });
    assert.deepEqual(matchChoice('bank', ['bank transfer', 'bank card']), { kind: 'ambiguous', indexes: [0, 1] });
  });

  it('finds nothing in unrelated words', () => {
    for (const said of ['banana', 'purple monkey', 'I want to buy something', '']) {
      assert.deepEqual(matchChoice(said, colours), { kind: 'none' }, said);
    }
  });

  it('prefers the longer value said over one inside it', () => {
    const blues = ['blue', 'dark blue', 'light blue'];
    assert.deepEqual(matchChoice('dark blue', blues), { kind: 'match', index: 1 });
    assert.deepEqual(matchChoice('just blue', blues), { kind: 'match', index: 0 });
  });

  it('reads values with underscores, camel case, numbers and run-together words', () => {
    const methods = ['credit_card', 'bankTransfer', 'PayPal', 'email'];
    assert.deepEqual(matchChoice('by credit card', methods), { kind: 'match', index: 0 });
    assert.deepEqual(matchChoice('bank transfer please', methods), { kind: 'match', index: 1 });
    assert.deepEqual(matchChoice('pay pal', methods), { kind: 'match', index: 2 });
    assert.deepEqual(matchChoice('e mail', methods), { kind: 'match', index: 3 });
    assert.deepEqual(matchChoice('tech support', ['technical support', 'billing']), { kind: 'match', index: 0 });
    assert.deepEqual(matchChoice('room 2B', ['room 1A', 'room 2B']), { kind: 'match', index: 1 });
  });

  it('matches numeric values by number', () => {
    assert.deepEqual(matchChoice('five', [1, 2, 5, 10]), { kind: 'match', index: 2 });
    assert.deepEqual(matchChoice('ten please', [1, 2, 5, 10]), { kind: 'match', index: 3 });
    assert.deepEqual(matchChoice('three', [1, 2, 5, 10]), { kind: 'none' });
  });

  it('takes keys as positions, or as the value for numeric values', () => {
    assert.deepEqual(choiceForKeys('2', ['red', 'green', 'blue']), { kind: 'match', index: 1 });
    assert.deepEqual(choiceForKeys('4', ['red', 'green', 'blue']), { kind: 'none' });
    assert.deepEqual(choiceForKeys('10', [1, 5, 10]), { kind: 'match', index: 2 });
    assert.deepEqual(choiceForKeys('2', [1, 5, 10]), { kind: 'none' });
  });
});

describe('form answers: dates', () => {
  // Friday 1 March 2024.
  const today = { year: 2024, month: 3, day: 1 };
  const cases: [string, string][] = [
    ['March fifth', '2024-03-05'],
    ['march 5th', '2024-03-05'],
    ['March the fifth', '2024-03-05'],
    ['5th of March 2024', '2024-03-05'],
    ['the fifth of March', '2024-03-05'],
    ['5 March 1999', '1999-03-05'],
    ['March 5, twenty twenty four', '2024-03-05'],
    ['march twenty first twenty twenty five', '2025-03-21'],
    ['the twenty first of march', '2024-03-21'],
    ['june 1 nineteen eighty four', '1984-06-01'],
    ['um, December 25th 2023', '2023-12-25'],
    ['may fifth', '2024-05-05'],
    ['2024-03-05', '2024-03-05'],
    ['It is 2024/3/5', '2024-03-05'],
    ['03/05/2024', '2024-03-05'],
    ['today', '2024-03-01'],
    ['tomorrow', '2024-03-02'],
    ['the day after tomorrow', '2024-03-03'],
    ['yesterday', '2024-02-29'],
    ['in three days', '2024-03-04'],
    ['in a week', '2024-03-08'],
    ['two weeks from now', '2024-03-15'],
    ['five days ago', '2024-02-25'],
    ['friday', '2024-03-08'],
    ['on Tuesday', '2024-03-05'],
    ['next monday', '2024-03-04'],
    ['last friday', '2024-02-23'],
    ['march fourth, no sorry, march fifth', '2024-03-05'],
  ];
  for (const [said, expected] of cases) {
    it(`"${said}" → ${expected}`, () => assert.equal(parseSpokenDate(said, today), expected));
  }

  it('reads numeric dates day first when asked', () => {
    assert.equal(parseSpokenDate('03/05/2024', today, { order: 'dmy' }), '2024-05-03');
  });

  it('refuses dates that do not exist and answers that are not dates', () => {
    for (const said of ['February 30th', '2023-02-29', 'march 32', 'the fifth', 'I may', 'banana', 'march 5 24']) {
      assert.equal(parseSpokenDate(said, today), null, said);
    }
  });

  it('takes today in the given time zone', () => {
    const lateEvening = Date.UTC(2024, 2, 1, 23, 30);
    assert.deepEqual(calendarDay(lateEvening), { year: 2024, month: 3, day: 1 });
    assert.deepEqual(calendarDay(lateEvening, 'Europe/Berlin'), { year: 2024, month: 3, day: 2 });
  });
});

describe('form answers: email addresses', () => {
  const cases: [string, string][] = [
    ['john at example dot com', 'john@example.com'],
    ['my email is j o h n dot smith at gmail dot com', 'john.smith@gmail.com'],
    ['jane underscore doe twenty three at mail dot example dot org', 'jane_doe23@mail.example.org'],
    ['mary dash jane at example dot co dot uk', 'mary-jane@example.co.uk'],
    ['bob plus news at example dot com thanks', 'bob+news@example.com'],
    ['you can reach me at john at gmail dot com please', 'john@gmail.com'],
    ['John@Example.com.', 'john@example.com'],
    ['john at example.com', 'john@example.com'],
  ];
  for (const [said, expected] of cases) {
    it(`"${said}" → ${expected}`, () => assert.equal(parseSpokenEmail(said), expected));
  }

  it('refuses what is not an address', () => {
    for (const said of ['banana', "it's john at gmail", 'at dot com', 'john at', 'john@@example.com']) {
      assert.equal(parseSpokenEmail(said), null, said);
    }
  });
});

function field(schema: Record<string, unknown>): FormField {
  return formFields({ type: 'object', properties: { value: schema }, required: ['value'] })[0] as FormField;
}

function context(f: FormField): AnswerContext {
  return { today: { year: 2024, month: 3, day: 1 }, dateOrder: 'mdy', check: compilePropertyCheck({}, f.schema) };
}

describe('form answers: by field', () => {
  it('checks numbers against the schema limits', () => {
    const age = field({ type: 'integer', minimum: 18, maximum: 120 });
    assert.deepEqual(interpretSpeech(age, 'forty two', context(age)), { ok: true, value: 42 });
    assert.deepEqual(interpretSpeech(age, 'twelve', context(age)), { ok: false, failure: { reason: 'rejected', heard: 12 } });
    // Of several numbers, the one the schema allows.
    assert.deepEqual(interpretSpeech(age, "I'm 42, born in 1982", context(age)), { ok: true, value: 42 });
    const count = field({ type: 'integer' });
    assert.deepEqual(interpretSpeech(count, 'two or three', context(count)), { ok: false, failure: { reason: 'several_numbers' } });
    assert.deepEqual(interpretSpeech(count, 'three point five', context(count)), { ok: false, failure: { reason: 'not_understood' } });
    const price = field({ type: 'number', multipleOf: 0.5 });
    assert.deepEqual(interpretSpeech(price, 'twelve point five', context(price)), { ok: true, value: 12.5 });
  });

  it('reads digit strings for string fields whose pattern takes digits', () => {
    const pin = field({ type: 'string', pattern: '^[0-9]{4}$' });
    assert.equal(pin.kind, 'digits');
    assert.deepEqual(interpretSpeech(pin, 'oh four two one', context(pin)), { ok: true, value: '0421' });
    assert.equal(interpretSpeech(pin, 'four two one', context(pin)).ok, false);
    const phone = field({ type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$' });
    assert.deepEqual(interpretSpeech(phone, 'plus four four two oh seven nine four six oh nine five eight', context(phone)),
      { ok: true, value: '+442079460958' });
    assert.deepEqual(interpretSpeech(phone, 'four four two oh seven nine four six oh nine five eight', context(phone)),
      { ok: true, value: '+442079460958' });
  });

  it('takes free text without its lead-in', () => {
    const name = field({ type: 'string', description: 'Your full name' });
    assert.equal(freeText(name, 'My name is John Smith.'), 'John Smith');
    assert.equal(freeText(name, "um, I'm Jane Doe"), 'Jane Doe');
    assert.equal(freeText(name, 'John Smith'), 'John Smith');
    const city = field({ type: 'string', description: 'The city you live in' });
    assert.equal(freeText(city, "It's Chicago"), 'Chicago');
    assert.equal(freeText(city, "I'm in Chicago"), "I'm in Chicago");
    assert.deepEqual(interpretSpeech(city, '   ', context(city)), { ok: false, failure: { reason: 'no_answer' } });
    const short = field({ type: 'string', maxLength: 5 });
    assert.deepEqual(interpretSpeech(short, 'far too long', context(short)), { ok: false, failure: { reason: 'rejected', heard: 'far too long' } });
    // A text answer that is only a number is its digits.
    const room = field({ type: 'string', description: 'Your room' });
    assert.deepEqual(interpretSpeech(room, 'one two three', context(room)), { ok: true, value: '123' });
  });

  it('reads keyed answers by field kind', () => {
    const n = field({ type: 'integer' });
    assert.deepEqual(interpretKeys(n, '4271#', context(n)), { ok: true, value: 4271 });
    assert.deepEqual(interpretKeys(n, '#', context(n)), { ok: false, failure: { reason: 'no_answer' } });
    assert.deepEqual(interpretKeys(n, '4*5', context(n)), { ok: false, failure: { reason: 'not_understood' } });
    const x = field({ type: 'number' });
    assert.deepEqual(interpretKeys(x, '4*5#', context(x)), { ok: true, value: 4.5 });
    const b = field({ type: 'boolean' });
    assert.deepEqual(interpretKeys(b, '1', context(b)), { ok: true, value: true });
    assert.deepEqual(interpretKeys(b, '2', context(b)), { ok: true, value: false });
    assert.equal(interpretKeys(b, '3', context(b)).ok, false);
    const c = field({ type: 'string', enum: ['red', 'green', 'blue'] });
    assert.deepEqual(interpretKeys(c, '3', context(c)), { ok: true, value: 'blue' });
    const d = field({ type: 'string', format: 'date' });
    assert.deepEqual(interpretKeys(d, '20240305#', context(d)), { ok: true, value: '2024-03-05' });
    assert.deepEqual(interpretKeys(d, '03052024', context(d)), { ok: true, value: '2024-03-05' });
    const pin = field({ type: 'string', pattern: '^[0-9]{4}$' });
    assert.deepEqual(interpretKeys(pin, '0421#', context(pin)), { ok: true, value: '0421' });
    const email = field({ type: 'string', format: 'email' });
    assert.equal(interpretKeys(email, '123', context(email)).ok, false);
  });
});
