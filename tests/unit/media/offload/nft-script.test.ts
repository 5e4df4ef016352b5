import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addFlowsScript, deleteFlowsScript, deviceChainScript, flowMark, parseCounters, parseElements } from '../../../../firmware/src/media/offload/nft-script.js';
import type { KernelFlow } from '../../../../firmware/src/media/offload/nft-script.js';
import { onLink } from '../../../../firmware/src/media/offload/host-links.js';

const eth = { name: 'eth0', index: 3, loopback: false };
const flow: KernelFlow = { inPort: 20000, srcAddress: '10.0.0.5', srcPort: 5004, payloadTypes: [0, 101], viaAddress: '10.0.0.1', viaPort: 20002, toAddress: '10.0.0.6', toPort: 6000, device: eth, outDevice: eth };

test('a flow is one leg_in element per payload type, and value maps by its mark', () => {
  const s = addFlowsScript([flow]);
  const mark = `0x${flowMark(20000).toString(16)}`;
  assert.is(mark, '0x5a004e20');
  assert.ok(s.includes(`leg_in { 20000 . 10.0.0.5 . 5004 . 0 : ${mark}, 20000 . 10.0.0.5 . 5004 . 101 : ${mark} }`));
  for (const v of [`to_addr { ${mark} : 10.0.0.6 }`, `to_port { ${mark} : 6000 }`, `via_addr { ${mark} : 10.0.0.1 }`, `via_port { ${mark} : 20002 }`, `to_dev { ${mark} : 3 }`]) assert.ok(s.includes(v), v);
  // The value maps are filled before leg_in, so a packet that matches finds them.
  assert.ok(s.indexOf('to_dev') < s.indexOf('leg_in'));
  const d = deleteFlowsScript([flow]);
  assert.ok(d.indexOf('leg_in') < d.indexOf('to_addr'), 'leg_in goes first on removal');
  assert.is(addFlowsScript([]), '');
});

test('the device chain sends out with fwd; on lo the packet goes on up', () => {
  assert.match(deviceChainScript(eth, 20000, 29999), /hook ingress device "eth0".*\n.*\n.*udp dport 20000-29999 @th,64,2 2 .*fwd ip to ip daddr device meta mark map @to_dev/);
  const lo = deviceChainScript({ name: 'lo', index: 1, loopback: true }, 20000, 29999);
  assert.not.match(lo, /fwd/);
  assert.match(lo, /meta mark set 0/);
});

test('counts are read from nft list output and summed per flow', () => {
  const text = `table netdev pgw_media {
\tmap leg_in {
\t\ttypeof udp dport . ip saddr . udp sport . @th,73,7 : meta mark
\t\tcounter
\t\telements = { 20000 . 10.0.0.5 . 5004 . 0x0 counter packets 150 bytes 30000 : 0x5a004e20,
\t\t\t     20000 . 10.0.0.5 . 5004 . 0x65 counter packets 4 bytes 704 : 0x5a004e20,
\t\t\t     20002 . 10.0.0.6 . 6000 . 0x0 counter packets 149 bytes 29800 : 0x5a004e22 }
\t}
}`;
  assert.equal(parseElements(text).map((e) => e.payloadType), [0, 101, 0]);
  const c = parseCounters(text);
  assert.equal(c.get('20000/10.0.0.5:5004'), { packets: 154, bytes: 30704 });
  assert.equal(c.get('20002/10.0.0.6:6000'), { packets: 149, bytes: 29800 });
  assert.is(parseCounters('table netdev pgw_media {\n}\n').size, 0);
});

test('onLink: the phone on the interface\'s subnet', () => {
  assert.ok(onLink('192.168.10.1', '255.255.255.0', '192.168.10.77'));
  assert.not.ok(onLink('192.168.10.1', '255.255.255.0', '192.168.11.77'));
  assert.ok(onLink('10.1.2.3', '255.0.0.0', '10.200.0.1'));
  assert.not.ok(onLink('10.1.2.3', '255.255.255.0', 'fe80::1'));
});

test.run();
