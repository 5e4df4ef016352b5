import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffPractice, summariseDiff } from '../../../firmware/src/sync/practice-diff.js';
import { buildPractice, validated } from './support/practice.js';
import type { Practice } from '../../../firmware/src/config/practice-schema.js';

const base = (): Practice => validated(buildPractice({ version: 1, extensions: 4, withTrunk: true }));
const clone = (p: Practice): Practice => structuredClone(p);

test('the same practice is an empty diff, whatever the version', () => {
  const a = base();
  const b = { ...clone(a), version: 9 };
  const d = diffPractice(a, b);
  assert.ok(d.empty);
  assert.equal(d.extensions, { added: [], removed: [], changed: [] });
  assert.equal(d.settings, []);
});

test('key order does not make a change', () => {
  const a = base();
  const b = clone(a);
  b.extensions[0] = { password: a.extensions[0]!.password, name: a.extensions[0]!.name, number: a.extensions[0]!.number };
  b.site = { timezone: a.site.timezone, name: a.site.name };
  assert.ok(diffPractice(a, b).empty);
});

test('extensions are matched by number, not position', () => {
  const a = base();
  const b = clone(a);
  b.extensions.reverse();
  assert.ok(diffPractice(a, b).empty, 'a new order alone changes nothing');
  b.extensions = b.extensions.filter((e) => e.number !== '2001');
  b.extensions.push({ number: '2100', name: 'New', password: 'new-password-1' });
  b.extensions.find((e) => e.number === '2002')!.name = 'Renamed';
  b.huntGroups[0]!.members = ['2000', '2002'];
  const d = diffPractice(a, b);
  assert.equal(d.extensions, { added: ['2100'], removed: ['2001'], changed: ['2002'] });
  assert.equal(d.huntGroups, { added: [], removed: [], changed: ['600'] });
  assert.not.ok(d.empty);
});

test('a password change is a change of that extension only', () => {
  const a = base();
  const b = clone(a);
  b.extensions[3]!.password = 'another-password';
  const d = diffPractice(a, b);
  assert.equal(d.extensions.changed, ['2003']);
  assert.equal(d.huntGroups.changed, []);
});

test('uplinks by name: cloud and trunks, and a new trunk order', () => {
  const a = base();
  const b = clone(a);
  b.uplinks = {
    cloud: { mode: 'trunk', proxy: 'sip:sbc.example.net', interface: 'hscn', registerExpires: 600, probe: a.uplinks!.trunks[0]!.probe },
    trunks: [...a.uplinks!.trunks, { ...a.uplinks!.trunks[0]!, name: 'fourg' }],
  };
  let d = diffPractice(a, b);
  assert.equal(d.uplinks.added.sort(), ['cloud', 'fourg']);
  assert.is(d.uplinks.reordered, false);
  const c = clone(b);
  c.uplinks!.trunks.reverse();
  d = diffPractice(b, c);
  assert.equal(d.uplinks.added, []);
  assert.equal(d.uplinks.changed, []);
  assert.is(d.uplinks.reordered, true);
  assert.not.ok(d.empty);
  const e = clone(b);
  delete e.uplinks;
  d = diffPractice(b, e);
  assert.equal(d.uplinks.removed.sort(), ['backup', 'cloud', 'fourg']);
});

test('routes by DID and whole settings sections', () => {
  const a = base();
  const b = clone(a);
  b.inbound = [{ did: '+441632960000', destination: '2000' }, { did: '+441632960009', destination: '600' }];
  b.dialPlan = { ...a.dialPlan, outsideLinePrefix: '9' };
  b.site = { ...a.site, name: 'Renamed Surgery' };
  const d = diffPractice(a, b);
  assert.equal(d.routes, { added: ['+441632960009'], removed: [], changed: ['+441632960000'] });
  assert.equal(d.settings, ['site', 'dialPlan']);
});

test('against nothing (first apply) everything is added', () => {
  const b = base();
  const d = diffPractice(undefined, b);
  assert.is(d.extensions.added.length, 4);
  assert.equal(d.uplinks.added, ['backup']);
  assert.equal(d.settings, ['site', 'sip', 'emergency', 'dialPlan', 'calls']);
  const s = summariseDiff(d);
  assert.equal(s.extensions, { added: 4, removed: 0, changed: 0 });
  assert.not.ok(JSON.stringify(s).includes('sekrit'), 'the summary holds counts, not values');
});

test.run();
