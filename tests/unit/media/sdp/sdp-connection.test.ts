import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSdp } from '../../../../firmware/src/media/sdp/sdp-parse.js';
import { remoteEndpoint, setMediaAddress, stripTransportAttributes } from '../../../../firmware/src/media/sdp/sdp-connection.js';

const base = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n';

test('remote endpoint: session c=, media c= wins, a=rtcp, port 0', () => {
  assert.equal(remoteEndpoint(parseSdp(base + 'm=audio 4000 RTP/AVP 0\r\n'), 0), { address: '10.0.0.1', port: 4000, rtcpAddress: '10.0.0.1', rtcpPort: 4001 });
  assert.equal(remoteEndpoint(parseSdp(base + 'm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.9\r\na=rtcp:5555 IN IP4 10.0.0.8\r\n'), 0), {
    address: '10.0.0.9',
    port: 4000,
    rtcpAddress: '10.0.0.8',
    rtcpPort: 5555,
  });
  assert.equal(remoteEndpoint(parseSdp(base + 'm=audio 4000 RTP/AVP 0\r\na=rtcp:4100\r\n'), 0)!.rtcpPort, 4100);
  assert.is(remoteEndpoint(parseSdp(base + 'm=audio 0 RTP/AVP 0\r\n'), 0), null);
  assert.is(remoteEndpoint(parseSdp(base + 'm=audio 4000 RTP/AVP 0\r\n'), 3), null);
});

test('setMediaAddress rewrites c=, port and a=rtcp, and keeps other streams where they were', () => {
  const s = parseSdp(base + 'm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.5\r\na=rtcp:4001 IN IP4 10.0.0.5\r\nm=video 5000 RTP/AVP 96\r\n');
  setMediaAddress(s, 0, '192.168.7.1', 20000);
  assert.equal(remoteEndpoint(s, 0), { address: '192.168.7.1', port: 20000, rtcpAddress: '192.168.7.1', rtcpPort: 20001 });
  assert.is(s.media[0]!.connection, null);
  assert.equal(s.media[1]!.connection, { netType: 'IN', addrType: 'IP4', address: '10.0.0.1' });
  setMediaAddress(s, 0, 'fd00::1', 20002);
  assert.equal(s.connection, { netType: 'IN', addrType: 'IP6', address: 'fd00::1' });
});

test('strips ICE and rtcp-mux, keeps the rest', () => {
  const s = parseSdp(base + 'a=ice-lite\r\na=group:BUNDLE 0\r\nm=audio 4000 RTP/AVP 0\r\na=candidate:1 1 UDP 1 10.0.0.1 4000 typ host\r\na=ice-ufrag:x\r\na=rtcp-mux\r\na=x-keep\r\n');
  stripTransportAttributes(s);
  assert.equal(s.attributes.map((a) => a.name), ['group']);
  assert.equal(s.media[0]!.attributes.map((a) => a.name), ['x-keep']);
});

test.run();
