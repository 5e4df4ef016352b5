import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SysfsLinkWatcher, linkStateOf, type LinkState } from '../../../firmware/src/uplinks/link-watcher.js';
import { interfaceToward } from '../../../firmware/src/uplinks/route-interface.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';

test('operstate values: no carrier and administratively down are down; unknown (wwan, ppp) counts as up', () => {
  assert.is(linkStateOf('up\n'), 'up');
  assert.is(linkStateOf('down\n'), 'down');
  assert.is(linkStateOf('lowerlayerdown\n'), 'down');
  assert.is(linkStateOf('notpresent'), 'down');
  assert.is(linkStateOf('unknown\n'), 'up');
  assert.is(linkStateOf('dormant'), 'up');
  assert.is(linkStateOf(undefined), 'down');
});

test('the watcher polls on the clock and reports changes only', () => {
  const clock = new FakeClock();
  let content: string | null = 'up\n';
  const paths: string[] = [];
  const w = new SysfsLinkWatcher({
    clock,
    iface: 'hscn0',
    pollMs: 200,
    read: (p) => {
      paths.push(p);
      if (content === null) throw new Error('ENOENT');
      return content;
    },
  });
  const seen: LinkState[] = [];
  w.start((s) => seen.push(s));
  assert.is(paths[0], '/sys/class/net/hscn0/operstate');
  clock.advance(1000);
  assert.equal(seen, []);
  content = 'lowerlayerdown\n';
  clock.advance(199);
  assert.equal(seen, []);
  clock.advance(1);
  assert.equal(seen, ['down']);
  assert.is(w.current(), 'down');
  content = null; // the interface vanished (a USB modem unplugged): still down, no new event
  clock.advance(400);
  assert.equal(seen, ['down']);
  content = 'up\n';
  clock.advance(200);
  assert.equal(seen, ['down', 'up']);
  w.stop();
  assert.is(clock.pending(), 0);
});

test('the interface toward an address is the longest matching route', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    // default via wan0
    'wan0\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    // 10.0.1.0/24 on hscn0
    'hscn0\t0001000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    // 10.0.0.0/8 via lan0 (shorter than /24)
    'lan0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
  ].join('\n');
  assert.is(interfaceToward('10.0.1.2', table), 'hscn0');
  assert.is(interfaceToward('10.9.9.9', table), 'lan0');
  assert.is(interfaceToward('192.0.2.1', table), 'wan0');
  assert.is(interfaceToward('2001:db8::1', table), undefined);
});

test.run();
