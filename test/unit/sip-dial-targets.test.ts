import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialTarget, fromUri, partyName } from '../../src/endpoints/sip-legs/dial-targets.js';
import { parseUri } from '../../src/endpoints/sip/uri.js';

const local = { localHost: '192.0.2.10', gateway: null };
const withGateway = {
  localHost: '192.0.2.10',
  gateway: { host: '198.51.100.7', port: 5080, transport: 'tcp' as const, username: 'acct', password: 'pw', domain: 'trunk.example' },
};

describe('dial targets', () => {
  it('calls a sip: URI directly, keeping host, port and parameters as written', () => {
    assert.deepEqual(dialTarget('sip:bob@127.0.0.1:5070;transport=tcp', '+15550001111', local), {
      to: 'sip:bob@127.0.0.1:5070;transport=tcp',
      from: 'sip:+15550001111@192.0.2.10',
    });
  });

  it('refuses what it cannot reach: sips:, malformed URIs, numbers with no gateway, names', () => {
    assert.equal(dialTarget('sips:bob@example.com', '+1555', local), null);
    assert.equal(dialTarget('sip:', '+1555', local), null);
    assert.equal(dialTarget('+15557654321', '+1555', local), null);
    assert.equal(dialTarget('alice', '+1555', withGateway), null);
  });

  it('sends numbers through the gateway with its transport, domain and credentials', () => {
    assert.deepEqual(dialTarget('+15557654321', '+15550001111', withGateway), {
      to: 'sip:+15557654321@trunk.example',
      from: 'sip:+15550001111@trunk.example',
      proxy: { host: '198.51.100.7', port: 5080 },
      transport: 'TCP',
      credentials: { username: 'acct', password: 'pw' },
    });
    const bare = dialTarget('15557654321', 'x', { localHost: 'h', gateway: { host: '198.51.100.7' } });
    assert.deepEqual(bare, { to: 'sip:15557654321@198.51.100.7', from: 'sip:x@198.51.100.7', proxy: { host: '198.51.100.7', port: 5060 }, transport: 'UDP' });
  });

  it('builds From from a URI, a user@host or a bare name, escaping what a user part cannot hold', () => {
    assert.equal(fromUri('sip:alice@example.com', 'h'), 'sip:alice@example.com');
    assert.equal(fromUri('alice@example.com', 'h'), 'sip:alice@example.com');
    assert.equal(fromUri('Front Desk', 'h'), 'sip:Front%20Desk@h');
  });

  it('names a party by its user part, or by the URI when it has none', () => {
    assert.equal(partyName(parseUri('sip:+15550404000@127.0.0.1:5060')), '+15550404000');
    assert.equal(partyName(parseUri('sip:pbx.example.com')), 'sip:pbx.example.com');
    assert.equal(partyName(parseUri('tel:+15550404000')), '+15550404000');
  });
});
