import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { VirtualClock } from '../../src/util/clock.js';
import { authorize, challengeOf, digestResponse, DigestVerifier, parseChallenge } from '../../src/endpoints/sip/digest.js';
import { parseAuthHeader } from '../../src/endpoints/sip/headers/auth.js';
import { SipParseError } from '../../src/endpoints/sip/errors.js';
import { createRequest, SipResponse } from '../../src/endpoints/sip/message.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('digest computation', () => {
  it('matches the RFC 2617 §3.5 example (qop=auth, MD5)', () => {
    assert.equal(
      digestResponse({
        username: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        method: 'GET',
        uri: '/dir/index.html',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
      '6629fae49393a05397450978507c4ef1',
    );
  });

  it('matches the RFC 7616 §3.9.1 examples (MD5 and SHA-256)', () => {
    const input = {
      username: 'Mufasa',
      password: 'Circle of Life',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    assert.equal(digestResponse({ ...input, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(digestResponse({ ...input, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('computes the RFC 2069 form without qop: H(HA1:nonce:HA2)', () => {
    const ha1 = md5('bob:biloxi.example.com:zanzibar');
    const ha2 = md5('INVITE:sip:bob@biloxi.example.com');
    assert.equal(
      digestResponse({ username: 'bob', password: 'zanzibar', realm: 'biloxi.example.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'INVITE', uri: 'sip:bob@biloxi.example.com' }),
      md5(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${ha2}`),
    );
  });

  it('MD5-sess folds nonce and cnonce into HA1', () => {
    const base = { username: 'u', password: 'p', realm: 'r', nonce: 'n', method: 'BYE', uri: 'sip:x', qop: 'auth', nc: '00000002', cnonce: 'c' };
    const ha1 = md5(`${md5('u:r:p')}:n:c`);
    assert.equal(digestResponse({ ...base, algorithm: 'MD5-sess' }), md5(`${ha1}:n:00000002:c:auth:${md5('BYE:sip:x')}`));
  });
});

describe('UAC: answering a challenge', () => {
  const invite = createRequest({ method: 'INVITE', uri: 'sip:bob@biloxi.example.com', headers: [['Call-ID', 'x']] });

  it('reads WWW-Authenticate and Proxy-Authenticate challenges', () => {
    const res = new SipResponse(407);
    res.headers.append('Proxy-Authenticate', 'Basic realm="x"');
    res.headers.append('Proxy-Authenticate', 'Digest realm="atlanta.example.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", qop="auth", opaque="", stale=FALSE, algorithm=MD5');
    const challenge = challengeOf(res);
    assert.deepEqual(challenge, { realm: 'atlanta.example.com', nonce: 'f84f1cec41e6cbe5aea9c8e88d359', opaque: '', algorithm: 'MD5', qop: ['auth'], stale: false, proxy: true });
    assert.throws(() => parseChallenge('Digest realm="r"'), SipParseError);
    assert.throws(() => parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-1'), SipParseError);
  });

  it('builds an Authorization header whose response verifies', () => {
    const challenge = parseChallenge('Digest realm="biloxi.example.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
    const header = authorize(challenge, { username: 'bob', password: 'zanzibar' }, invite, { cnonce: '0a4f113b', nc: 1 });
    assert.equal(header.name, 'Authorization');
    const parsed = parseAuthHeader(header.value, 'Authorization');
    assert.equal(parsed.params.get('qop'), 'auth');
    assert.equal(parsed.params.get('nc'), '00000001');
    assert.equal(parsed.params.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
    assert.equal(parsed.params.get('uri'), 'sip:bob@biloxi.example.com');
    assert.match(header.value, /^Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.example.com", response="[0-9a-f]{32}", algorithm=MD5, opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"$/);
    const expected = digestResponse({ username: 'bob', password: 'zanzibar', realm: 'biloxi.example.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'INVITE', uri: 'sip:bob@biloxi.example.com', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' });
    assert.equal(parsed.params.get('response'), expected);
  });

  it('omits qop, nc and cnonce for an RFC 2069 challenge', () => {
    const header = authorize(parseChallenge('Digest realm="r", nonce="n"'), { username: 'u', password: 'p' }, invite);
    assert.ok(!/qop|cnonce|nc=/.test(header.value));
  });
});

describe('UAS: verifying credentials', () => {
  function setup() {
    const clock = new VirtualClock();
    const verifier = new DigestVerifier({ realm: 'switchboard', clock, password: (u) => (u === 'trunk' ? 's3cret' : undefined), nonceTtlMs: 60_000 });
    return { clock, verifier };
  }

  it('accepts the right password, rejects the wrong one and a forged nonce', () => {
    const { verifier } = setup();
    const challenge = parseChallenge(verifier.challenge());
    const good = createRequest({ method: 'INVITE', uri: 'sip:+15550100@switchboard' });
    assert.equal(verifier.verify(good), 'missing');
    const auth = authorize(challenge, { username: 'trunk', password: 's3cret' }, good);
    good.headers.set(auth.name, auth.value);
    assert.equal(verifier.verify(good), 'ok');

    const wrong = createRequest({ method: 'INVITE', uri: 'sip:+15550100@switchboard' });
    const bad = authorize(challenge, { username: 'trunk', password: 'guess' }, wrong);
    wrong.headers.set(bad.name, bad.value);
    assert.equal(verifier.verify(wrong), 'invalid');

    const forged = createRequest({ method: 'INVITE', uri: 'sip:+15550100@switchboard' });
    const fake = authorize({ ...challenge, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, { username: 'trunk', password: 's3cret' }, forged);
    forged.headers.set(fake.name, fake.value);
    assert.equal(verifier.verify(forged), 'invalid');

    const unknown = createRequest({ method: 'INVITE', uri: 'sip:+15550100@switchboard' });
    const who = authorize(challenge, { username: 'nobody', password: 's3cret' }, unknown);
    unknown.headers.set(who.name, who.value);
    assert.equal(verifier.verify(unknown), 'invalid');
  });

  it('reports an expired nonce as stale and says so in the next challenge', () => {
    const { clock, verifier } = setup();
    const challenge = parseChallenge(verifier.challenge());
    clock.advance(61_000);
    const req = createRequest({ method: 'BYE', uri: 'sip:a@b' });
    const auth = authorize(challenge, { username: 'trunk', password: 's3cret' }, req);
    req.headers.set(auth.name, auth.value);
    assert.equal(verifier.verify(req), 'stale');
    assert.equal(parseChallenge(verifier.challenge(true)).stale, true);
  });
});
