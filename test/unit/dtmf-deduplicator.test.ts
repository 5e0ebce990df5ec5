import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DtmfDeduplicator } from '../../src/calls/dtmf-deduplicator.js';

it('a press heard both as RFC 4733 and in-band is reported once, whichever arrives first', () => {
  const d = new DtmfDeduplicator();
  assert.equal(d.accept('5', 'rfc4733', 1000), true);
  assert.equal(d.accept('5', 'inband', 1040), false);
  assert.equal(d.accept('7', 'inband', 2000), true);
  assert.equal(d.accept('7', 'rfc4733', 1990), false);
});

it('repeated presses from one source stay separate digits', () => {
  const d = new DtmfDeduplicator();
  assert.equal(d.accept('1', 'rfc4733', 0), true);
  assert.equal(d.accept('1', 'inband', 30), false);
  assert.equal(d.accept('1', 'rfc4733', 140), true);
  assert.equal(d.accept('1', 'inband', 170), false);
  assert.equal(d.accept('1', 'rfc4733', 280), true);
});

it('the same digit from another source after the window is a new press; different digits always pass', () => {
  const d = new DtmfDeduplicator(200);
  assert.equal(d.accept('3', 'rfc4733', 0), true);
  assert.equal(d.accept('3', 'inband', 201), true);
  assert.equal(d.accept('4', 'rfc4733', 210), true);
  assert.equal(d.accept('9', 'inband', 215), true);
});
