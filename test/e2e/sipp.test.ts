import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Telnyx from 'telnyx';
import type { TestSwitchboard } from '../../src/testing/harness.js';
import type { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import type { VerifiedEvent } from '../helpers/sdk.js';
import { defaultConfig } from '../../src/config/config.js';
import { APP_NUMBER, startAppSide, type AppSide } from '../fixtures/sip-app.js';
import { freePort, Sipp, sippInstalled } from '../fixtures/sipp.js';

const CALLER = '+15550404000';

/**
 * Real SIP peers against a live Switchboard: SIPp places and takes calls over UDP and TCP, and the
 * application side is driven through the official SDK, with every webhook verified by it.
 */
async function finished(sipp: Sipp): Promise<void> {
  const result = await sipp.done;
  assert.equal(result.code, 0, `SIPp failed:\n${result.output.slice(-3000)}`);
}

describe('SIPp calls', { skip: sippInstalled ? false : 'sipp (Debian sip-tester) not installed' }, () => {
  let app: AppSide;
  let sb: TestSwitchboard;
  let client: Telnyx;
  let receiver: WebhookReceiver;
  let connectionId: string;
  let nextEvent: AppSide['nextEvent'];

  before(async () => {
    app = await startAppSide();
    ({ sb, client, receiver, connectionId, nextEvent } = app);
  });

  after(async () => {
    await app.close();
  });

  const sipPort = (transport: 'UDP' | 'TCP'): number => sb.server.sip?.port(transport) ?? 0;

  async function inbound(scenario: string, transport: 'UDP' | 'TCP'): Promise<{ sipp: Sipp; ccid: string; initiated: VerifiedEvent }> {
    const sipp = await Sipp.start({ scenario, transport, target: `127.0.0.1:${sipPort(transport)}`, service: APP_NUMBER });
    const initiated = await nextEvent('call.initiated');
    return { sipp, ccid: String(initiated.payload['call_control_id']), initiated };
  }

  for (const transport of ['UDP', 'TCP'] as const) {
    it(`over ${transport}: the app answers and the caller hangs up`, async () => {
      const { sipp, ccid, initiated } = await inbound('inbound-caller-hangs-up.xml', transport);
      try {
        assert.equal(initiated.payload['direction'], 'incoming');
        assert.equal(initiated.payload['from'], CALLER);
        assert.equal(initiated.payload['to'], APP_NUMBER);
        assert.equal(initiated.payload['connection_id'], connectionId);
        await client.calls.actions.answer(ccid, {});
        await nextEvent('call.answered', ccid);
        const hangup = await nextEvent('call.hangup', ccid);
        assert.equal(hangup.payload['hangup_cause'], 'normal_clearing');
        assert.equal(hangup.payload['hangup_source'], 'caller');
        await finished(sipp);
      } finally {
        sipp.kill();
      }
    });

    it(`over ${transport}: the app answers and hangs up`, async () => {
      const { sipp, ccid } = await inbound('inbound-app-hangs-up.xml', transport);
      try {
        await client.calls.actions.answer(ccid, {});
        await nextEvent('call.answered', ccid);
        await client.calls.actions.hangup(ccid, {});
        const hangup = await nextEvent('call.hangup', ccid);
        assert.equal(hangup.payload['hangup_cause'], 'normal_clearing');
        assert.equal(hangup.payload['hangup_source'], 'callee');
        await finished(sipp);
      } finally {
        sipp.kill();
      }
    });
  }

  it('a caller who cancels before the answer gives call.hangup originator_cancel', async () => {
    const { sipp, ccid } = await inbound('inbound-cancel.xml', 'UDP');
    try {
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_cause'], 'originator_cancel');
      assert.equal(hangup.payload['hangup_source'], 'caller');
      assert.equal(hangup.payload['sip_hangup_cause'], '487');
      await finished(sipp);
      assert.equal(sb.server.engine.isLive(ccid), false);
    } finally {
      sipp.kill();
    }
  });

  it('a re-INVITE to hold and one to resume are answered in the same call', async () => {
    const { sipp, ccid } = await inbound('inbound-hold-resume.xml', 'UDP');
    try {
      await client.calls.actions.answer(ccid, {});
      await nextEvent('call.answered', ccid);
      // SIPp checks that each answer mirrors the offered direction; the call ends only with its BYE.
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_source'], 'caller');
      await finished(sipp);
    } finally {
      sipp.kill();
    }
  });

  it('an INVITE without SDP is answered with our offer and takes the answer from the ACK', async () => {
    const { sipp, ccid } = await inbound('inbound-late-offer.xml', 'UDP');
    try {
      await client.calls.actions.answer(ccid, {});
      await nextEvent('call.answered', ccid);
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_source'], 'caller');
      await finished(sipp);
    } finally {
      sipp.kill();
    }
  });

  it('an app that hangs up before answering refuses the call with 603', async () => {
    const { sipp, ccid } = await inbound('inbound-app-rejects.xml', 'UDP');
    try {
      await client.calls.actions.hangup(ccid, {});
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_cause'], 'call_rejected');
      assert.equal(hangup.payload['sip_hangup_cause'], '603');
      await finished(sipp);
    } finally {
      sipp.kill();
    }
  });

  it('an offer with no common codec gets 488 and never reaches the app', async () => {
    const before = receiver.received.length;
    await finished(await Sipp.start({ scenario: 'inbound-no-common-codec.xml', transport: 'UDP', target: `127.0.0.1:${sipPort('UDP')}`, service: APP_NUMBER }));
    assert.equal(receiver.received.slice(before).filter((w) => w.body.data?.event_type === 'call.initiated').length, 0);
  });

  /** SIPp calls in and keys digits from a pcap; the app gathers them and hangs up. */
  async function gatherFromPcap(): Promise<VerifiedEvent> {
    const { sipp, ccid } = await inbound('inbound-rfc2833-digits.xml', 'UDP');
    try {
      await client.calls.actions.answer(ccid, {});
      await nextEvent('call.answered', ccid);
      await client.calls.actions.gather(ccid, { minimum_digits: 1, maximum_digits: 10, terminating_digit: '#', timeout_millis: 20_000 });
      const ended = await nextEvent('call.gather.ended', ccid, 15_000);
      await client.calls.actions.hangup(ccid, {});
      await finished(sipp);
      return ended;
    } finally {
      sipp.kill();
    }
  }

  it('RFC 2833 digits from a pcap reach call.gather.ended', async () => {
    const ended = await gatherFromPcap();
    assert.equal(ended.payload['digits'], '427');
    assert.equal(ended.payload['status'], 'valid');
  });

  it('the stats route counts a call\'s RTP and, with the RTP I/O thread, how late its packets left', async () => {
    interface RtpStats {
      ended_legs: number; packets_sent: number; packets_received: number;
      send_timing: { batches: number; overdue_batches: number; lateness_p50_ms: number; lateness_p99_ms: number; lateness_max_ms: number } | null;
    }
    const rtpStats = async (): Promise<RtpStats> => {
      const res = await fetch(`${sb.server.url}/switchboard/v1/stats`, { headers: { authorization: `Bearer ${sb.apiKey}` } });
      assert.equal(res.status, 200);
      const { data } = (await res.json()) as { data: { rtp: RtpStats | null } };
      assert.ok(data.rtp !== null, 'SIP is on');
      return data.rtp;
    };
    const before = await rtpStats();
    await gatherFromPcap();
    const after = await rtpStats();
    assert.equal(after.ended_legs, before.ended_legs + 1);
    assert.ok(after.packets_sent > before.packets_sent && after.packets_received > before.packets_received, JSON.stringify({ before, after }));
    const timing = after.send_timing;
    // The harness starts from the built-in defaults: the I/O thread wherever there are two cores.
    if (defaultConfig.sip.rtpThread) {
      assert.ok(timing !== null, 'the I/O thread reports its send timing');
      // Every tick of the call's media pass hands over a timed batch: the pcap plays for seconds.
      assert.ok(timing.batches - (before.send_timing?.batches ?? 0) >= 50 && timing.overdue_batches <= timing.batches, JSON.stringify(timing));
      assert.ok(timing.lateness_p50_ms <= timing.lateness_p99_ms && timing.lateness_p99_ms <= timing.lateness_max_ms + 0.1, JSON.stringify(timing));
    } else {
      assert.equal(timing, null);
    }
  });

  it('dials a SIPp UAS: call.answered, then the app hangs up', async () => {
    const uas = await Sipp.start({ scenario: 'outbound-answer.xml', transport: 'UDP' });
    try {
      const dialled = await client.calls.dial({ connection_id: connectionId, to: `sip:bob@127.0.0.1:${uas.port}`, from: APP_NUMBER, timeout_secs: 10 });
      const ccid = String(dialled.data?.call_control_id);
      await nextEvent('call.initiated', ccid);
      const answered = await nextEvent('call.answered', ccid);
      assert.equal(answered.payload['to'], `sip:bob@127.0.0.1:${uas.port}`);
      await client.calls.actions.hangup(ccid, {});
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_cause'], 'normal_clearing');
      assert.equal(hangup.payload['hangup_source'], 'caller');
      await finished(uas);
    } finally {
      uas.kill();
    }
  });

  it('a dial that rings past timeout_secs is cancelled and ends with timeout', async () => {
    const uas = await Sipp.start({ scenario: 'outbound-no-answer.xml', transport: 'UDP' });
    try {
      const dialled = await client.calls.dial({ connection_id: connectionId, to: `sip:nobody@127.0.0.1:${uas.port}`, from: APP_NUMBER, timeout_secs: 5 });
      const ccid = String(dialled.data?.call_control_id);
      const hangup = await nextEvent('call.hangup', ccid, 15_000);
      assert.equal(hangup.payload['hangup_cause'], 'timeout');
      await finished(uas);
    } finally {
      uas.kill();
    }
  });

  it('a busy callee (486) ends the dial with user_busy and the SIP status', async () => {
    const uas = await Sipp.start({ scenario: 'outbound-busy.xml', transport: 'UDP' });
    try {
      const dialled = await client.calls.dial({ connection_id: connectionId, to: `sip:busy@127.0.0.1:${uas.port}`, from: APP_NUMBER });
      const ccid = String(dialled.data?.call_control_id);
      const hangup = await nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_cause'], 'user_busy');
      assert.equal(hangup.payload['sip_hangup_cause'], '486');
      await finished(uas);
    } finally {
      uas.kill();
    }
  });
});

describe('SIPp trunks with digest authentication', { skip: sippInstalled ? false : 'sipp (Debian sip-tester) not installed' }, () => {
  let app: AppSide;
  let gatewayPort: number;

  before(async () => {
    gatewayPort = await freePort();
    app = await startAppSide({
      inboundAuth: { realm: 'switchboard.test', users: { 'trunk-user': 'trunk-secret' } },
      gateway: { host: '127.0.0.1', port: gatewayPort, username: 'switchboard', password: 'trunk-secret' },
    });
  });

  after(async () => {
    await app.close();
  });

  it('an inbound INVITE is challenged, and the authenticated retry reaches the app', async () => {
    const port = app.sb.server.sip?.port('UDP') ?? 0;
    // SIPp signs sip:host:port unless told the Request-URI; Switchboard insists they match (RFC 3261 §22.4).
    const sipp = await Sipp.start({
      scenario: 'inbound-auth.xml', transport: 'UDP', target: `127.0.0.1:${port}`, service: APP_NUMBER,
      extra: ['-auth_uri', `${APP_NUMBER}@127.0.0.1:${port}`],
    });
    try {
      const initiated = await app.nextEvent('call.initiated');
      const ccid = String(initiated.payload['call_control_id']);
      await app.client.calls.actions.answer(ccid, {});
      await app.nextEvent('call.answered', ccid);
      await app.nextEvent('call.hangup', ccid);
      await finished(sipp);
    } finally {
      sipp.kill();
    }
  });

  it('a number is dialled through the gateway, answering its digest challenge', async () => {
    const gateway = await Sipp.start({ scenario: 'outbound-gateway-auth.xml', transport: 'UDP', port: gatewayPort });
    try {
      const dialled = await app.client.calls.dial({ connection_id: app.connectionId, to: '+15557654321', from: APP_NUMBER });
      const ccid = String(dialled.data?.call_control_id);
      const answered = await app.nextEvent('call.answered', ccid);
      assert.equal(answered.payload['to'], '+15557654321');
      await app.client.calls.actions.hangup(ccid, {});
      await app.nextEvent('call.hangup', ccid);
      await finished(gateway);
    } finally {
      gateway.kill();
    }
  });
});
