import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redactGatewayFile, redactPractice, validateGatewayFile, validatePractice, REDACTED } from '../../../firmware/src/config/index.js';
import { fullPractice, readExample } from './practice-fixture.js';

function secretsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => secretsOf(v, out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'password' || k === 'pin') && typeof v === 'string') out.push(v);
      else secretsOf(v, out);
    }
  return out;
}

test('no secret of the example survives redaction of the whole file', () => {
  const example = readExample();
  example.device = { id: 'x', cloud: { mqtt: { url: 'mqtt://b', username: 'u', password: 'mqtt-secret-1' } } };
  const r = validateGatewayFile(example);
  assert.ok(r.ok);
  if (!r.ok) return;
  const secrets = secretsOf(r.value);
  assert.ok(secrets.length >= 9, `found ${secrets.length} secrets`);
  const text = JSON.stringify(redactGatewayFile(r.value));
  for (const s of secrets) assert.not.ok(text.includes(s), s);
  assert.ok(text.includes(REDACTED));
});

test('redactPractice covers extension, voicemail, cloud account and trunk secrets and keeps the rest', () => {
  const p = fullPractice();
  p.extensions[0].voicemail = { pin: '4321' };
  p.extensions[0].cloudAccount = { username: 'c201', password: 'cloud-acct-pw' };
  const r = validatePractice(p);
  assert.ok(r.ok);
  if (!r.ok) return;
  const red = redactPractice(r.value);
  assert.is(red.extensions[0]!.password, REDACTED);
  assert.is(red.extensions[0]!.voicemail?.pin, REDACTED);
  assert.is(red.extensions[0]!.cloudAccount?.password, REDACTED);
  assert.is(red.extensions[0]!.cloudAccount?.username, 'c201');
  assert.is(red.uplinks?.trunks[0]!.password, REDACTED);
  assert.is(red.uplinks?.trunks[0]!.username, 'u');
  assert.is(red.extensions[1]!.name, 'Reception 2');
  // The original is untouched.
  assert.is(r.value.extensions[0]!.password, 'pw-201-abcdef');
});

test.run();
