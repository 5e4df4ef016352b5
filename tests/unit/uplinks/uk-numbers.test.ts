import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalDid, formatForUplink, stripOutsideLinePrefix, toE164 } from '../../../firmware/src/uplinks/uk-numbers.js';

const UK = { countryCode: '44' };
const UK9 = { countryCode: '44', outsideLinePrefix: '9' };

test('national, international and E.164 forms become E.164', () => {
  assert.is(toE164('01632960123', UK), '+441632960123');
  assert.is(toE164('07700900123', UK), '+447700900123');
  assert.is(toE164('00353123456789', UK), '+353123456789');
  assert.is(toE164('+441632960123', UK), '+441632960123');
  assert.is(toE164('0163 296 0123', UK), '+441632960123');
});

test('short codes and unreadable numbers go out as dialled', () => {
  assert.is(toE164('101', UK), '101');
  assert.is(toE164('111', UK), '111');
  assert.is(toE164('118118', UK), '118118');
  assert.is(toE164('960123', UK), '960123');
});

test('the outside-line digit is stripped before normalising', () => {
  assert.is(toE164('901632960123', UK9), '+441632960123');
  assert.is(toE164('900353123456789', UK9), '+353123456789');
  // Without a prefix configured, 9 is just a digit.
  assert.is(toE164('901632960123', UK), '901632960123');
  assert.is(stripOutsideLinePrefix('9', '9'), '9');
  assert.is(stripOutsideLinePrefix('91', '9'), '91');
  assert.is(stripOutsideLinePrefix('9101', '9'), '101');
});

test('another country code normalises national numbers to it', () => {
  assert.is(toE164('0211234567', { countryCode: '353' }), '+353211234567');
});

test('each trunk gets the format it wants', () => {
  assert.is(formatForUplink('+441632960123', 'e164', UK), '+441632960123');
  assert.is(formatForUplink('+441632960123', 'e164-no-plus', UK), '441632960123');
  assert.is(formatForUplink('+441632960123', 'national', UK), '01632960123');
  assert.is(formatForUplink('+353123456789', 'national', UK), '00353123456789');
  assert.is(formatForUplink('999', 'national', UK), '999');
});

test('DIDs as carriers deliver them match the E.164 of the config', () => {
  for (const delivered of ['+441632960000', '441632960000', '01632960000', '00441632960000', '%2B441632960000', '+44 1632 960000']) {
    assert.is(canonicalDid(delivered, '44'), '+441632960000', delivered);
  }
  assert.is(canonicalDid('201', '44'), undefined);
  assert.is(canonicalDid('riverside', '44'), undefined);
  assert.is(canonicalDid('600', '44'), undefined);
});

test.run();
