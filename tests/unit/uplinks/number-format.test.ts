/**
 * A trunk's `numberFormat` (issue 6): the schema field, its default, and the
 * numbers each format puts in the INVITE the trunk receives.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validatePractice } from '../../../firmware/src/config/validate.js';
import { UplinkManager } from '../../../firmware/src/uplinks/uplink-manager.js';
import { FakeClock } from '../../../firmware/src/util/clock.js';
import { silentLogger } from '../../../firmware/src/util/logger.js';
import { FakeLink, FakeUa, fakeDns, flush, practice } from './fakes.js';

function trunkOnly(numberFormat?: string): Record<string, unknown> {
  return {
    uplinks: {
      trunks: [
        {
          name: 'backup',
          registrar: 'sip:10.0.2.2:5060',
          username: 'riverside',
          password: 'trunk-secret',
          ...(numberFormat !== undefined ? { numberFormat } : {}),
        },
      ],
    },
  };
}

function practiceJson(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    version: 1,
    site: { name: 'Riverside Surgery', mainNumber: '+441632960000' },
    sip: {},
    extensions: [{ number: '201', name: 'Reception 1', password: 'pw-201-secret' }],
    ...overrides,
  };
}

test('schema: numberFormat defaults to e164 and takes e164-no-plus and national', () => {
  const def = validatePractice(practiceJson(trunkOnly()));
  assert.ok(def.ok);
  if (def.ok) assert.is(def.value.uplinks?.trunks[0]?.numberFormat, 'e164');
  for (const f of ['e164', 'e164-no-plus', 'national']) {
    const r = validatePractice(practiceJson(trunkOnly(f)));
    assert.ok(r.ok, f);
    if (r.ok) assert.is(r.value.uplinks?.trunks[0]?.numberFormat, f);
  }
});

test('schema: an unknown format is refused at its path', () => {
  const r = validatePractice(practiceJson(trunkOnly('E.164')));
  assert.not.ok(r.ok);
  if (!r.ok) assert.ok(r.errors.some((e) => e.path === 'practice.uplinks.trunks[0].numberFormat'), JSON.stringify(r.errors));
});

async function targetFor(numberFormat: string | undefined, dialled: string, kind: 'external' | 'emergency' = 'external') {
  const clock = new FakeClock();
  const ua = new FakeUa();
  const m = new UplinkManager({
    practice: practice(trunkOnly(numberFormat)),
    ua,
    clock,
    logger: silentLogger(),
    dns: fakeDns({}),
    linkFor: () => new FakeLink('wan0'),
  });
  await m.start();
  await flush();
  const [t] = m.outbound({ kind, dialled, caller: { number: '201', name: 'Reception 1' } });
  const stopped = m.stop(2_000);
  await flush();
  clock.advance(2_000);
  await stopped;
  assert.ok(t, 'the trunk carries the call');
  return t!;
}

test('each format writes the called and presented numbers its way; 999 and short codes never change', async () => {
  const e164 = await targetFor(undefined, '01632960123');
  assert.is(e164.uri, 'sip:+441632960123@10.0.2.2:5060');
  assert.is(e164.from, '<sip:+441632960000@10.0.2.2:5060>');

  const noPlus = await targetFor('e164-no-plus', '01632960123');
  assert.is(noPlus.uri, 'sip:441632960123@10.0.2.2:5060');
  assert.is(noPlus.to, '<sip:441632960123@10.0.2.2:5060>');
  assert.is(noPlus.from, '<sip:441632960000@10.0.2.2:5060>');
  assert.equal(noPlus.headers, [['P-Asserted-Identity', '<sip:441632960000@10.0.2.2:5060>']]);

  const national = await targetFor('national', '+441632960123');
  assert.is(national.uri, 'sip:01632960123@10.0.2.2:5060');
  assert.is(national.from, '<sip:01632960000@10.0.2.2:5060>');
  const abroad = await targetFor('national', '0033123456789');
  assert.is(abroad.uri, 'sip:0033123456789@10.0.2.2:5060', 'international numbers keep 00 in national form');

  const emergency = await targetFor('e164-no-plus', '999', 'emergency');
  assert.is(emergency.uri, 'sip:999@10.0.2.2:5060');
  const short = await targetFor('national', '101');
  assert.is(short.uri, 'sip:101@10.0.2.2:5060');
});

test.run();
