import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SipUserAgent } from '../../src/endpoints/sip/user-agent.js';
import type { CallEndInfo } from '../../src/endpoints/sip/ua-core.js';

const SIPP = '/usr/bin/sipp';
const ANSWER = { contentType: 'application/sdp', body: 'v=0\r\no=sb 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n' };

/**
 * Interoperability smoke test against SIPp's built-in `uac` scenario (INVITE, expect 100/180
 * optionally and 200, ACK, pause, BYE, expect 200). Loopback only, one call. Skipped when SIPp is
 * not installed.
 */
describe('SIPp uac against the user agent', { skip: existsSync(SIPP) ? false : 'sipp not installed' }, () => {
  for (const transport of ['UDP', 'TCP'] as const) {
    it(`completes one call over ${transport}`, async () => {
      const ua = new SipUserAgent({ host: '127.0.0.1', udpPort: 0, tcpPort: 0 });
      await ua.start();
      const ended: CallEndInfo[] = [];
      ua.on('invite', (call) => {
        call.on('ended', (info) => ended.push(info));
        call.progress(180);
        call.accept(ANSWER);
      });
      try {
        const port = ua.port(transport) ?? 0;
        const args = ['-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-t', transport === 'UDP' ? 'u1' : 't1', '-m', '1', '-d', '100', '-nostdin', '-timeout', '15', '-timeout_error'];
        const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
          const child = execFile(SIPP, args, { timeout: 20_000 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}\n${stderr}` });
          });
          child.stdin?.end();
        });
        assert.equal(result.code, 0, `sipp failed:\n${result.output.slice(-2000)}`);
        assert.deepEqual(ended, [{ by: 'remote', reason: 'bye' }]);
      } finally {
        await ua.stop();
      }
    });
  }
});
