import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../src/endpoints/sip/errors.js';
import { formatUri, hostAddress, hostReference, parseSipUri, parseUri, sipUri } from '../../src/endpoints/sip/uri.js';

describe('SIP URI parsing', () => {
  it('reads every component of a full sip: URI', () => {
    const uri = parseSipUri('sip:alice:secret@atlanta.example.com:5070;transport=tcp;lr?subject=project%20x&priority=urgent');
    assert.equal(uri.scheme, 'sip');
    assert.equal(uri.user, 'alice');
    assert.equal(uri.password, 'secret');
    assert.equal(uri.host, 'atlanta.example.com');
    assert.equal(uri.port, 5070);
    assert.equal(uri.params.get('transport'), 'tcp');
    assert.equal(uri.params.get('LR'), null, 'valueless, looked up case-insensitively');
    assert.equal(uri.params.get('maddr'), undefined);
    assert.deepEqual(uri.headers, [
      { name: 'subject', value: 'project x' },
      { name: 'priority', value: 'urgent' },
    ]);
  });

  it('handles a bare host, sips:, IPv4 and IPv6 references', () => {
    assert.deepEqual(pick(parseSipUri('sip:example.com')), ['sip', null, 'example.com', null]);
    assert.deepEqual(pick(parseSipUri('SIPS:bob@192.0.2.4')), ['sips', 'bob', '192.0.2.4', null]);
    const v6 = parseSipUri('sip:[2001:db8::10]:5061;maddr=[2001:db8::20]');
    assert.deepEqual(pick(v6), ['sip', null, '[2001:db8::10]', 5061]);
    assert.equal(v6.params.get('maddr'), '[2001:db8::20]');
    assert.equal(hostAddress(v6.host), '2001:db8::10');
    assert.equal(hostReference('2001:db8::10'), '[2001:db8::10]');
    assert.equal(hostReference('192.0.2.1'), '192.0.2.1');
  });

  it('unescapes user, password and parameters (as UTF-8) and escapes them again', () => {
    const uri = parseSipUri('sip:J%C3%BCrgen%20M@example.com;na%6De=v%61l');
    assert.equal(uri.user, 'Jürgen M');
    assert.equal(uri.params.get('name'), 'val');
    assert.equal(formatUri(uri), 'sip:J%C3%BCrgen%20M@example.com;name=val');
    const telUser = parseSipUri('sip:+1-212-555-1212;phone-context=example.com@gw.example.com;user=phone');
    assert.equal(telUser.user, '+1-212-555-1212;phone-context=example.com');
    assert.equal(telUser.params.get('user'), 'phone');
  });

  it('formats what it parses', () => {
    for (const text of [
      'sip:alice@atlanta.example.com',
      'sips:bob:pw@biloxi.example.com:5061;transport=tls',
      'sip:[2001:db8::1]:5060;lr',
      'sip:conf@example.com?Subject=hi',
      'tel:+1-201-555-0123;phone-context=example.com',
      'urn:service:sos',
    ]) {
      assert.equal(formatUri(parseUri(text)), text);
    }
    const built = sipUri('127.0.0.1', 5062, 'switchboard');
    built.params.set('transport', 'tcp');
    assert.equal(formatUri(built), 'sip:switchboard@127.0.0.1:5062;transport=tcp');
  });

  it('keeps tel: and unknown schemes', () => {
    const tel = parseUri('tel:+1-201-555-0123;ext=22');
    assert.ok(tel.kind === 'tel');
    assert.equal(tel.number, '+1-201-555-0123');
    assert.equal(tel.params.get('ext'), '22');
    const other = parseUri('soap.beep://192.0.2.103:3002');
    assert.deepEqual(other, { kind: 'other', scheme: 'soap.beep', opaque: '//192.0.2.103:3002' });
  });

  it('rejects malformed URIs with SipParseError', () => {
    for (const bad of [
      '',
      'example.com',
      ':nothing',
      '1sip:a@b',
      'sip:',
      'sip:@example.com',
      'sip:a@b@c',
      'sip:alice@exa mple.com',
      'sip:alice@example.com:70000',
      'sip:alice@example.com:',
      'sip:alice@[2001:db8::1',
      'sip:alice@[zz::1]',
      'sip:al%G1ce@example.com',
      'sip:alice@example.com;;lr',
      'sip:alice@example.com;a=',
      'sip:alice@example.com?novalue',
      'sip:ali<ce@example.com',
      'tel:',
      'tel:+1 555',
      'http:',
      'http://exa mple.com',
    ]) {
      assert.throws(() => parseUri(bad), (err: unknown) => err instanceof SipParseError && err.code === 'bad-uri', bad);
    }
  });
});

function pick(uri: ReturnType<typeof parseSipUri>): unknown[] {
  return [uri.scheme, uri.user, uri.host, uri.port];
}
