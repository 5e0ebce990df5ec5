import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findNumbers, parseSpokenNumber } from '../../src/ai/forms/numbers.js';

describe('form numbers: one number per answer', () => {
  const table: [string, number][] = [
    // Digit by digit, as account numbers are read.
    ['four two seven one', 4271],
    ["it's four two seven one", 4271],
    ['one two three four five', 12345],
    ['nine', 9],
    ['zero', 0],
    // Number words that combine.
    ['forty two', 42],
    ['Forty-two.', 42],
    ['twenty one', 21],
    ['one hundred', 100],
    ['one hundred and five', 105],
    ['one hundred twenty three', 123],
    ['a hundred and twenty', 120],
    ['twelve hundred', 1200],
    ['forty two hundred', 4200],
    ['nineteen hundred and eighty four', 1984],
    ['one thousand nine hundred eighty four', 1984],
    ['two thousand and four', 2004],
    ['two thousand twenty four', 2024],
    ['five hundred thousand', 500000],
    ['two million three hundred thousand and twelve', 2300012],
    ['a thousand', 1000],
    ['thousand', 1000],
    // Quantities said in a row are written one after the other.
    ['forty two seventy one', 4271],
    ['twenty twenty four', 2024],
    ['nineteen eighty four', 1984],
    ['nineteen oh five', 1905],
    ['twelve thirty four', 1234],
    // "oh" as zero, and doubles.
    ['oh seven', 7],
    ['four oh four', 404],
    ['double three', 33],
    ['double oh seven', 7],
    ['triple five one', 5551],
    ['four double two one', 4221],
    // Recogniser output with numerals.
    ['4271', 4271],
    ['4 2 7 1', 4271],
    ['42 71', 4271],
    ['1,234', 1234],
    ['5 thousand', 5000],
    ['12 hundred', 1200],
    ['555-1234', 5551234],
    ['five five five dash one two one two', 5551212],
    // Hesitations, lead-ins and corrections.
    ['um, four two, uh, seven one', 4271],
    ['my number is four two seven one please', 4271],
    ['oh forty two', 42],
    ['four two, no sorry, four three', 43],
    ['forty two, actually forty three', 43],
    // Signs and decimals.
    ['minus five', -5],
    ['negative twelve', -12],
    ['-5', -5],
    ['three point one four', 3.14],
    ['point five', 0.5],
    ['twelve point five', 12.5],
    ['3.5', 3.5],
    // Ordinals.
    ['the third one', 3],
    ['twenty first', 21],
    ['21st', 21],
  ];
  for (const [said, expected] of table) {
    it(`"${said}" → ${expected}`, () => assert.equal(parseSpokenNumber(said), expected));
  }

  it('finds no number in words that are not numbers', () => {
    for (const said of ['banana', 'purple monkey', 'oh', 'oh well', 'a lot', 'and', '']) {
      assert.equal(parseSpokenNumber(said), null, said);
    }
  });

  it('gives no single number when several are said apart', () => {
    assert.equal(parseSpokenNumber('I have 2 accounts and my number is 4271'), null);
    const found = findNumbers('I have 2 accounts and my number is 4271');
    assert.deepEqual(found.map((n) => n.value), [2, 4271]);
    assert.deepEqual(found.map((n) => [n.start, n.end]), [[2, 3], [8, 9]]);
  });
});

describe('form numbers: digits as said', () => {
  it('keeps leading zeros in the digits', () => {
    assert.equal(findNumbers('oh oh four four')[0]?.digits, '0044');
    assert.equal(findNumbers('double oh seven')[0]?.digits, '007');
    assert.equal(findNumbers('zero one two three')[0]?.digits, '0123');
    assert.equal(findNumbers('0044 20')[0]?.digits, '004420');
  });

  it('marks a plus and a minus', () => {
    const phone = findNumbers('+44 20 7946 0958')[0];
    assert.equal(phone?.plus, true);
    assert.equal(phone?.digits, '442079460958');
    assert.equal(findNumbers('plus one two three')[0]?.plus, true);
    assert.equal(findNumbers('minus three')[0]?.negative, true);
  });

  it('keeps the fraction digits', () => {
    const n = findNumbers('two point oh five')[0];
    assert.equal(n?.digits, '2');
    assert.equal(n?.fraction, '05');
    assert.equal(n?.value, 2.05);
  });

  it('keeps digit strings beyond 2^53 exact', () => {
    assert.equal(findNumbers('12345678901234567890')[0]?.digits, '12345678901234567890');
  });
});
