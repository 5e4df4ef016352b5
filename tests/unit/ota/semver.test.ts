import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareSemVer, isSemVer, parseSemVer } from '../../../ota/semver.js';

test('parses core, pre-release and build parts', () => {
  const v = parseSemVer('1.2.3-rc.1+build.5');
  assert.equal(v?.major, 1);
  assert.equal(v?.prerelease, ['rc', 1]);
  assert.equal(v?.build, ['build', '5']);
});

test('rejects what semver 2.0.0 forbids', () => {
  for (const bad of ['1.2', '01.2.3', '1.2.3-01', '1.2.3-', 'v1.2.3', '1.2.3+', '1.2.3-a..b', ''])
    assert.not.ok(isSemVer(bad), bad);
});

test('precedence follows §11, in the spec example order', () => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0'];
  for (let i = 0; i < ordered.length; i++)
    for (let j = 0; j < ordered.length; j++) {
      const want = i < j ? -1 : i > j ? 1 : 0;
      assert.is(compareSemVer(ordered[i]!, ordered[j]!), want, `${ordered[i]} vs ${ordered[j]}`);
    }
});

test('build metadata does not count; numbers compare as numbers', () => {
  assert.is(compareSemVer('1.0.0+a', '1.0.0+b'), 0);
  assert.is(compareSemVer('1.10.0', '1.9.0'), 1);
});

test('throws on invalid input', () => {
  assert.throws(() => compareSemVer('1.0', '1.0.0'));
});

test.run();
