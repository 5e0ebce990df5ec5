import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/config.js';

describe('SIP configuration', () => {
  it('defaults to SIP on 5060 over UDP and TCP with RTP ports 10000-20000', () => {
    const config = loadConfig({});
    assert.deepEqual(config.sip, defaultConfig.sip);
    assert.equal(config.sip.port, 5060);
    assert.equal(config.sip.enabled, true);
  });

  it('takes host, port, advertised address, RTP range and on/off from the environment', () => {
    const config = loadConfig({
      SWITCHBOARD_SIP: 'off', SWITCHBOARD_SIP_HOST: '127.0.0.1', SWITCHBOARD_SIP_PORT: '5070',
      SWITCHBOARD_SIP_ADVERTISED_HOST: '203.0.113.5', SWITCHBOARD_RTP_PORTS: '30000-30999',
    });
    assert.deepEqual(
      { ...config.sip },
      { ...defaultConfig.sip, enabled: false, host: '127.0.0.1', port: 5070, advertisedHost: '203.0.113.5', rtpPortMin: 30000, rtpPortMax: 30999 },
    );
  });

  it('refuses a malformed or inverted RTP range, a bad port and an incomplete gateway', () => {
    assert.throws(() => loadConfig({ SWITCHBOARD_RTP_PORTS: '20000' }), ConfigError);
    assert.throws(() => loadConfig({ SWITCHBOARD_RTP_PORTS: '20000-10000' }), ConfigError);
    assert.throws(() => loadConfig({ SWITCHBOARD_RTP_PORTS: '80-2000' }), /1024/);
    assert.throws(() => loadConfig({ SWITCHBOARD_SIP_PORT: '70000' }), ConfigError);
    assert.throws(() => loadConfig({}, { sip: { gateway: { host: '' } } }), /gateway.host/);
    assert.throws(() => loadConfig({}, { sip: { gateway: { host: 'h', transport: 'tls' as 'tcp' } } }), /transport/);
    assert.throws(() => loadConfig({}, { sip: { inboundAuth: { realm: 'r', users: null as unknown as Record<string, string> } } }), /inboundAuth/);
  });

  it('runs RTP on its own thread by default where there are two cores; SWITCHBOARD_RTP_THREAD and the file turn it off, and the send delay and priority are checked', () => {
    assert.equal(loadConfig({}).sip.rtpThread, availableParallelism() > 1);
    assert.equal(loadConfig({ SWITCHBOARD_RTP_THREAD: 'off' }).sip.rtpThread, false);
    assert.equal(loadConfig({ SWITCHBOARD_RTP_THREAD: '1' }).sip.rtpThread, true);
    assert.equal(loadConfig({}, { sip: { rtpThread: false } }).sip.rtpThread, false);
    assert.equal(loadConfig({}, { sip: { rtpSendDelayMs: 0 } }).sip.rtpSendDelayMs, 0);
    assert.throws(() => loadConfig({}, { sip: { rtpThread: 'yes' as unknown as boolean } }), /rtpThread/);
    assert.throws(() => loadConfig({}, { sip: { rtpSendDelayMs: 41 } }), /rtpSendDelayMs/);
    assert.throws(() => loadConfig({}, { sip: { rtpSendDelayMs: -1 } }), /rtpSendDelayMs/);
    assert.equal(loadConfig({}).sip.rtpThreadNice, -20);
    assert.equal(loadConfig({}, { sip: { rtpThreadNice: -10 } }).sip.rtpThreadNice, -10);
    assert.equal(loadConfig({}, { sip: { rtpThreadNice: null } }).sip.rtpThreadNice, null);
    assert.throws(() => loadConfig({}, { sip: { rtpThreadNice: -21 } }), /rtpThreadNice/);
    assert.throws(() => loadConfig({}, { sip: { rtpThreadNice: 2.5 } }), /rtpThreadNice/);
  });

  it('merges a partial sip section over the defaults', () => {
    const config = loadConfig({}, { sip: { gateway: { host: 'trunk.example' } } });
    assert.equal(config.sip.port, 5060);
    assert.deepEqual(config.sip.gateway, { host: 'trunk.example' });
  });
});

describe('speech configuration', () => {
  it('defaults to the embedded engines with no provider, and checks configured providers', () => {
    assert.deepEqual(loadConfig({}).speech.providers, []);
    const ok = loadConfig({}, { speech: { providers: [{ families: ['telnyx', 'polly'], baseUrl: 'http://127.0.0.1:8880', model: 'kokoro' }] } });
    assert.equal(ok.speech.providers.length, 1);
    assert.equal(ok.speech.espeak, true);
    assert.throws(() => loadConfig({}, { speech: { providers: [{ families: ['telnyx'], baseUrl: 'ftp://x' }] } }), /baseUrl/);
    assert.throws(() => loadConfig({}, { speech: { providers: [{ families: ['acme'], baseUrl: 'http://x' }] } }), /families/);
    assert.throws(() => loadConfig({}, { speech: { cacheBytes: -1 } }), /cacheBytes/);
  });
});

describe('media thread priority', () => {
  it('defaults to nice -10 for the command, takes null, and refuses values outside -20..19', () => {
    assert.equal(loadConfig({}).mediaThreadNice, -10);
    assert.equal(loadConfig({}, { mediaThreadNice: null }).mediaThreadNice, null);
    assert.throws(() => loadConfig({}, { mediaThreadNice: 20 }), /mediaThreadNice/);
    assert.throws(() => loadConfig({}, { mediaThreadNice: -1.5 }), /mediaThreadNice/);
  });
});

describe('rate limit configuration', () => {
  it('is on by default, and SWITCHBOARD_RATE_LIMIT sets or disables it', () => {
    assert.deepEqual(loadConfig({}).rateLimit, { requestsPerSecond: 200, burst: 400 });
    assert.deepEqual(loadConfig({ SWITCHBOARD_RATE_LIMIT: '50/80' }).rateLimit, { requestsPerSecond: 50, burst: 80 });
    assert.deepEqual(loadConfig({ SWITCHBOARD_RATE_LIMIT: '10' }).rateLimit, { requestsPerSecond: 10, burst: 20 });
    assert.equal(loadConfig({ SWITCHBOARD_RATE_LIMIT: 'off' }).rateLimit, null);
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMIT: 'lots' }), /SWITCHBOARD_RATE_LIMIT/);
  });
});

describe('AI turn-taking configuration', () => {
  it('ends turns after 300 ms of silence unless the file, the environment or an override says otherwise', () => {
    assert.equal(loadConfig({}).ai.endOfTurnSilenceMs, 300);
    assert.equal(loadConfig({ SWITCHBOARD_AI_END_OF_TURN_MS: '650' }).ai.endOfTurnSilenceMs, 650);
    assert.equal(loadConfig({ SWITCHBOARD_AI_END_OF_TURN_MS: '650' }, { ai: { endOfTurnSilenceMs: 400 } }).ai.endOfTurnSilenceMs, 400);
    assert.throws(() => loadConfig({ SWITCHBOARD_AI_END_OF_TURN_MS: 'soon' }), /SWITCHBOARD_AI_END_OF_TURN_MS/);
    assert.throws(() => loadConfig({}, { ai: { endOfTurnSilenceMs: 20 } }), /endOfTurnSilenceMs/);
  });
});
