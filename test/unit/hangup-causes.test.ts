import assert from 'node:assert/strict';
import { it } from 'node:test';
import { causeForSipStatus } from '../../src/calls/hangup-causes.js';

it('maps final SIP responses to the Telnyx hangup_cause an app would act on', () => {
  const cases: [number, string][] = [
    [486, 'user_busy'], [600, 'user_busy'], [404, 'not_found'], [484, 'not_found'], [604, 'not_found'],
    [480, 'no_answer'], [408, 'no_answer'], [487, 'originator_cancel'], [603, 'call_rejected'],
    [403, 'call_rejected'], [488, 'call_rejected'], [503, 'unspecified'], [500, 'unspecified'],
  ];
  for (const [status, cause] of cases) assert.equal(causeForSipStatus(status), cause, String(status));
});
