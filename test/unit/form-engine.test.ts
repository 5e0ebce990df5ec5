import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormEngine, type FormEngineOptions, type FormOutcome, type FormTurn } from '../../src/ai/forms/engine.js';
import { FormError, formFields } from '../../src/ai/forms/fields.js';
import { questionFor, retryPromptFor } from '../../src/ai/forms/questions.js';

const ORDER = {
  type: 'object',
  properties: {
    account_number: { type: 'integer', description: 'Your account number' },
    confirmed: { type: 'boolean', description: 'Whether you confirm the order' },
  },
  required: ['account_number', 'confirmed'],
};

// Friday 1 March 2024, noon UTC.
const NOW = Date.UTC(2024, 2, 1, 12);

function engine(schema: Record<string, unknown> = ORDER, options: FormEngineOptions = {}): FormEngine {
  return new FormEngine(schema, { now: () => NOW, ...options });
}

function say(turn: FormTurn | null): string {
  assert.ok(turn !== null && turn.done === undefined, `expected a question, got ${JSON.stringify(turn)}`);
  return turn.say;
}

function done(turn: FormTurn | null): FormOutcome {
  assert.ok(turn !== null && turn.done !== undefined, `expected the end, got ${JSON.stringify(turn)}`);
  return turn.done;
}

/** Runs a dialogue: answers starting with `#keys:` are keyed, the others spoken. */
function converse(form: FormEngine, answers: readonly string[]): { prompts: string[]; outcome: FormOutcome } {
  const prompts = [say(form.start())];
  for (const [i, answer] of answers.entries()) {
    const turn = answer.startsWith('#keys:') ? form.digits(answer.slice(6)) : form.hear(answer);
    if (i === answers.length - 1) return { prompts, outcome: done(turn) };
    prompts.push(say(turn));
  }
  throw new Error('the dialogue needs at least one answer');
}

describe('form engine: full dialogues', () => {
  it('collects an account number and a confirmation by voice', () => {
    const form = engine();
    const { prompts, outcome } = converse(form, ["it's four two seven one", 'yes']);
    assert.deepEqual(prompts, ['Please say your account number.', 'Do you confirm the order? Please say yes or no.']);
    assert.equal(outcome.status, 'valid');
    assert.deepEqual(outcome.result, { account_number: 4271, confirmed: true });
    assert.deepEqual(outcome.errors, []);
    assert.deepEqual(outcome.messageHistory, [
      { role: 'assistant', content: 'Please say your account number.' },
      { role: 'user', content: "it's four two seven one" },
      { role: 'assistant', content: 'Do you confirm the order? Please say yes or no.' },
      { role: 'user', content: 'yes' },
    ]);
    assert.equal(form.finished, true);
    assert.deepEqual(form.outcome(), outcome);
  });

  it('tells what it will say once the awaited answer is understood, so it can be synthesised ahead', () => {
    const form = engine(ORDER, { endedSpeech: 'Thank you, goodbye.' });
    assert.deepEqual(form.upcoming(), []);
    form.start();
    assert.deepEqual(form.upcoming(), ['Do you confirm the order? Please say yes or no.']);
    const next = say(form.hear('four two seven one'));
    assert.equal(next, 'Do you confirm the order? Please say yes or no.');
    assert.deepEqual(form.upcoming(), ['Thank you, goodbye.']);
    form.hear('yes');
    assert.deepEqual(form.upcoming(), []);
  });

  it('takes the account number keyed, ended by #', () => {
    const { outcome } = converse(engine(), ['#keys:4271#', 'yeah']);
    assert.equal(outcome.status, 'valid');
    assert.deepEqual(outcome.result, { account_number: 4271, confirmed: true });
    assert.deepEqual(outcome.messageHistory[1], { role: 'user', content: '4271' });
  });

  it('takes keys one at a time', () => {
    const form = engine();
    form.start();
    for (const key of '4271') assert.equal(form.pressKey(key), null);
    assert.equal(say(form.pressKey('#')), 'Do you confirm the order? Please say yes or no.');
    // A yes/no answer is a single key: no # needed.
    const outcome = done(form.pressKey('1'));
    assert.deepEqual(outcome.result, { account_number: 4271, confirmed: true });
    assert.deepEqual(outcome.messageHistory.filter((m) => m.role === 'user').map((m) => m.content), ['4271', '1']);
  });

  it('asks again after nonsense, then ends invalid when the retries are used up', () => {
    const form = engine();
    const { prompts, outcome } = converse(form, ['banana', 'purple monkey', 'elephant']);
    assert.equal(prompts.length, 3);
    assert.equal(prompts[1], "Sorry, I didn't catch that. Please say your account number one digit at a time, or type it on your keypad and then press the hash key.");
    assert.equal(prompts[2], prompts[1]);
    assert.equal(outcome.status, 'invalid');
    assert.deepEqual(outcome.result, {});
    assert.ok(outcome.errors.includes('account_number was not understood'));
    assert.equal(outcome.messageHistory.length, 6);
    assert.throws(() => form.hear('yes'), /ended/);
  });

  it('ends invalid with what was collected when a later field fails', () => {
    const { outcome } = converse(engine(), ['4271', 'banana', 'purple monkey', 'maybe']);
    assert.equal(outcome.status, 'invalid');
    assert.deepEqual(outcome.result, { account_number: 4271 });
  });

  it('recovers when a retry is understood', () => {
    const { prompts, outcome } = converse(engine(), ['banana', 'forty two seventy one', 'nope']);
    assert.equal(prompts.length, 3);
    assert.equal(outcome.status, 'valid');
    assert.deepEqual(outcome.result, { account_number: 4271, confirmed: false });
  });

  it('honours maxRetries', () => {
    const none = converse(engine(ORDER, { maxRetries: 0 }), ['banana']);
    assert.equal(none.outcome.status, 'invalid');
    const many = engine(ORDER, { maxRetries: 4 });
    many.start();
    for (let i = 0; i < 4; i++) say(many.hear('banana'));
    assert.equal(done(many.hear('banana')).status, 'invalid');
  });

  it('counts silence as a failed try and says so', () => {
    const form = engine();
    form.start();
    assert.equal(say(form.hear('')), "Sorry, I didn't hear anything. Please say your account number.");
    assert.equal(say(form.hear('  ')), "Sorry, I didn't hear anything. Please say your account number.");
    assert.equal(done(form.hear('')).status, 'invalid');
    // Silence leaves no user messages.
    assert.deepEqual(form.history().filter((m) => m.role === 'user'), []);
  });

  it('repeats the question on request without using a try', () => {
    const form = engine();
    form.start();
    assert.equal(say(form.hear('sorry, what?')), 'Please say your account number.');
    assert.equal(say(form.hear('can you repeat that please')), 'Please say your account number.');
    say(form.hear('banana'));
    say(form.hear('banana'));
    assert.equal(say(form.hear('4271')), 'Do you confirm the order? Please say yes or no.');
  });

  it('starts with the greeting and ends with the ended speech', () => {
    const form = engine(ORDER, { greeting: 'Hello from Acme.', endedSpeech: 'Thank you, goodbye.' });
    assert.equal(say(form.start()), 'Hello from Acme. Please say your account number.');
    say(form.hear('4271'));
    const last = form.hear('yes');
    assert.equal(last.say, 'Thank you, goodbye.');
    const outcome = done(last);
    assert.deepEqual(outcome.messageHistory.map((m) => m.content), [
      'Hello from Acme. Please say your account number.', '4271', 'Do you confirm the order? Please say yes or no.', 'yes',
      'Thank you, goodbye.',
    ]);
  });

  it('continues from an earlier message history', () => {
    const earlier = [{ role: 'user' as const, content: 'I want to place an order' }, { role: 'assistant' as const, content: 'Sure.' }];
    const form = engine(ORDER, { messageHistory: earlier });
    form.start();
    const history = form.history();
    assert.deepEqual(history.slice(0, 2), earlier);
    assert.equal(history[2]?.content, 'Please say your account number.');
    // The engine keeps its own copy.
    history.pop();
    assert.equal(form.history().length, 3);
  });

  it('reports partial results as fields are understood', () => {
    const form = engine();
    assert.deepEqual(form.partialResult(), {});
    form.start();
    assert.deepEqual(form.partialResult(), {});
    form.hear('banana');
    assert.deepEqual(form.partialResult(), {});
    form.hear('four two seven one');
    assert.deepEqual(form.partialResult(), { account_number: 4271 });
    assert.equal(form.currentField()?.name, 'confirmed');
    form.hear('yes');
    assert.deepEqual(form.partialResult(), { account_number: 4271, confirmed: true });
    assert.equal(form.currentField(), null);
  });

  it('enforces the order of calls', () => {
    const form = engine();
    assert.throws(() => form.hear('yes'), /start/);
    form.start();
    assert.throws(() => form.start(), /already/);
  });

  it('stops early: invalid while required fields are missing', () => {
    const form = engine();
    form.start();
    form.hear('4271');
    const outcome = form.stop();
    assert.equal(outcome.status, 'invalid');
    assert.deepEqual(outcome.result, { account_number: 4271 });
    assert.deepEqual(outcome.errors, ['confirmed was not collected']);
    assert.equal(form.stop(), outcome);
  });
});

describe('form engine: field kinds in a dialogue', () => {
  const DELIVERY = {
    type: 'object',
    properties: {
      colour: { type: 'string', enum: ['red', 'green', 'blue'], description: 'Your favourite colour' },
      day: { type: 'string', format: 'date', description: 'The delivery date' },
      email: { type: 'string', format: 'email', description: 'Your email address' },
      name: { type: 'string', description: 'Your full name' },
      age: { type: 'integer', minimum: 18, maximum: 120, description: 'Your age' },
      gift: { type: 'boolean', description: 'Whether the order is a gift' },
      size: { type: 'string', enum: ['small', 'medium', 'large'] },
    },
    required: ['colour', 'day', 'email', 'name', 'age', 'gift', 'size'],
  };

  it('collects choices, dates, emails, text, limited numbers and yes/no', () => {
    const { prompts, outcome } = converse(engine(DELIVERY), [
      'red or blue', 'blue', 'tomorrow', 'john dot smith at example dot com', 'My name is John Smith.', 'twelve',
      'forty two', 'no', 'the large one',
    ]);
    assert.deepEqual(prompts, [
      'What is your favourite colour: red, green or blue?',
      'Sorry, did you mean red or blue?',
      'Please say the delivery date.',
      'Please say your email address.',
      'Please say your full name.',
      'Please say your age.',
      'Sorry, I heard 12, but your age must be between 18 and 120. Please say your age again.',
      'Is the order a gift? Please say yes or no.',
      'What is your size: small, medium or large?',
    ]);
    assert.equal(outcome.status, 'valid');
    assert.deepEqual(outcome.result, {
      colour: 'blue', day: '2024-03-02', email: 'john.smith@example.com', name: 'John Smith', age: 42, gift: false, size: 'large',
    });
  });

  it('reads relative dates in the configured time zone', () => {
    const schema = { type: 'object', properties: { day: { type: 'string', format: 'date' } }, required: ['day'] };
    const late = Date.UTC(2024, 2, 1, 23, 30);
    const utc = new FormEngine(schema, { now: () => late });
    utc.start();
    assert.deepEqual(done(utc.hear('tomorrow')).result, { day: '2024-03-02' });
    const berlin = new FormEngine(schema, { now: () => late, timeZone: 'Europe/Berlin' });
    berlin.start();
    assert.deepEqual(done(berlin.hear('tomorrow')).result, { day: '2024-03-03' });
  });

  it('asks optional fields when nothing is required, and lets them be skipped', () => {
    const schema = {
      type: 'object',
      properties: { rooms: { type: 'integer', description: 'How many rooms do you need?' }, notes: { type: 'string', description: 'Any special requests' } },
    };
    const form = engine(schema);
    assert.equal(say(form.start()), "How many rooms do you need? If you'd rather not say, say skip.");
    assert.equal(say(form.hear('two')), "Please say any special requests. If you'd rather not say, say skip.");
    const outcome = done(form.hear("I'd rather not say"));
    assert.equal(outcome.status, 'valid');
    assert.deepEqual(outcome.result, { rooms: 2 });
  });

  it('asks only required fields when some are required, unless asked to ask all', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'boolean' }, c: { type: 'integer' } },
      required: ['c'],
    };
    assert.deepEqual(engine(schema).fields.map((f) => f.name), ['c']);
    assert.deepEqual(engine(schema, { ask: 'all' }).fields.map((f) => f.name), ['a', 'b', 'c']);
  });

  it('leaves out an optional field that is not understood', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'boolean' } }, required: ['b'] };
    const form = engine(schema, { ask: 'all', maxRetries: 1 });
    form.start();
    say(form.hear('banana'));
    assert.equal(say(form.hear('banana')), 'Please say yes or no: your b?');
    assert.deepEqual(done(form.hear('yes')), {
      status: 'valid', result: { b: true }, errors: [], messageHistory: form.history(),
    });
  });

  it('fills single-value fields without asking and never asks objects or arrays', () => {
    const schema = {
      type: 'object',
      properties: {
        kind: { const: 'order' },
        items: { type: 'array', items: { type: 'string' } },
        ok: { type: 'boolean' },
      },
      required: ['kind', 'items', 'ok'],
    };
    const form = engine(schema);
    assert.equal(say(form.start()), 'Please say yes or no: your ok?');
    const outcome = done(form.hear('yes'));
    assert.equal(outcome.status, 'invalid');
    assert.deepEqual(outcome.result, { kind: 'order', ok: true });
    assert.deepEqual(outcome.errors, ['items cannot be collected by voice']);
  });

  it('is invalid when the whole result breaks a rule no single field shows', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' } },
      required: ['a', 'b'],
      not: { properties: { a: { const: 1 }, b: { const: 1 } } },
    };
    const { outcome } = converse(engine(schema), ['one', 'one']);
    assert.equal(outcome.status, 'invalid');
    assert.equal(outcome.errors.length, 1);
  });

  it('accepts schemas that declare $schema, $defs and unknown keywords', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      'x-internal': true,
      $defs: { pin: { type: 'string', pattern: '^[0-9]{4}$' } },
      properties: { pin: { $ref: '#/$defs/pin', description: 'Your PIN' } },
      required: ['pin'],
    };
    const form = engine(schema);
    assert.equal(say(form.start()), 'Please say your PIN.');
    assert.equal(say(form.hear('one two three')).startsWith('Sorry'), true);
    assert.deepEqual(done(form.hear('one two three four')).result, { pin: '1234' });
  });

  it('refuses schemas and languages it cannot run', () => {
    const refused = (schema: unknown, code: string): void => {
      assert.throws(() => new FormEngine(schema as Record<string, unknown>), (e: unknown) => e instanceof FormError && e.code === code);
    };
    refused({ type: 'string' }, 'invalid_schema');
    refused({ type: 'object', properties: {} }, 'invalid_schema');
    refused({ type: 'object', properties: { a: { type: 'integer' } }, required: 'a' }, 'invalid_schema');
    refused({ type: 'object', properties: { a: { type: 'integer', minimum: 'x' } } }, 'invalid_schema');
    assert.throws(() => new FormEngine(ORDER, { language: 'de-DE' }), (e: unknown) => e instanceof FormError && e.code === 'unsupported_language');
    assert.doesNotThrow(() => new FormEngine(ORDER, { language: 'en-GB' }));
  });
});

describe('form engine: questions', () => {
  const ask = (schema: Record<string, unknown>, name = 'x'): string => {
    const field = formFields({ type: 'object', properties: { [name]: schema }, required: [name] })[0];
    assert.ok(field);
    return questionFor(field);
  };

  it('phrases each kind of description', () => {
    assert.equal(ask({ type: 'integer', description: 'Your account number' }), 'Please say your account number.');
    assert.equal(ask({ type: 'integer', description: 'Account number' }), 'Please say the account number.');
    assert.equal(ask({ type: 'integer' }, 'account_number'), 'Please say your account number.');
    assert.equal(ask({ type: 'integer' }, 'accountNumber'), 'Please say your account number.');
    assert.equal(ask({ type: 'string', description: 'What is your name?' }), 'What is your name?');
    assert.equal(ask({ type: 'string', description: 'Enter your PIN' }), 'Enter your PIN.');
    assert.equal(ask({ type: 'string', description: 'The customer\'s city. Used for routing.' }), "Please say the customer's city.");
    assert.equal(ask({ type: 'boolean', description: 'Whether you confirm the order' }), 'Do you confirm the order? Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: 'Whether you are over 18' }), 'Are you over 18? Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: "Whether you'd like a receipt" }), 'Would you like a receipt? Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: 'Whether the order is a gift' }), 'Is the order a gift? Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: 'Whether the caller wants a callback' }), 'Please tell me whether the caller wants a callback. Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: 'Do you have pets' }), 'Do you have pets? Please say yes or no.');
    assert.equal(ask({ type: 'boolean', description: 'Is this urgent? Answer yes or no.' }), 'Is this urgent? Answer yes or no.');
    assert.equal(ask({ enum: ['red', 'green', 'blue'], description: 'Your favourite colour' }), 'What is your favourite colour: red, green or blue?');
    assert.equal(ask({ enum: ['red', 'green', 'blue'], description: 'Pick a colour' }), 'Pick a colour. Which one: red, green or blue?');
    assert.equal(ask({ enum: ['credit_card', 'cash'] }, 'payment'), 'What is your payment: credit card or cash?');
  });

  it('words retry prompts from the failure and the schema', () => {
    const [count] = formFields({ type: 'object', properties: { n: { type: 'integer', minimum: 1, description: 'The number of guests' } }, required: ['n'] });
    assert.ok(count);
    assert.equal(retryPromptFor(count, { reason: 'rejected', heard: 0 }), 'Sorry, I heard 0, but the number of guests must be at least 1. Please say the number of guests again.');
    assert.equal(retryPromptFor(count, { reason: 'several_numbers' }), 'Sorry, I heard more than one number. Please say just the number of guests.');
    const [pin] = formFields({ type: 'object', properties: { pin: { type: 'string', pattern: '^[0-9]+$', minLength: 4, maxLength: 4 } }, required: ['pin'] });
    assert.ok(pin);
    assert.equal(retryPromptFor(pin, { reason: 'rejected', heard: '123' }), 'Sorry, your pin must be 4 digits long. Please say your pin again.');
    const [mail] = formFields({ type: 'object', properties: { mail: { type: 'string', format: 'email' } }, required: ['mail'] });
    assert.ok(mail);
    assert.equal(retryPromptFor(mail, { reason: 'not_understood' }), "Sorry, I didn't catch that. Please say your mail like this: john dot smith at example dot com.");
  });
});
