/**
 * Running nft: one `nft -f -` per batch, the script on stdin. A batch is one
 * kernel transaction (all of it applies or none), which is what lets a
 * flow's maps change together.
 */
import { spawn } from 'node:child_process';
import { PgwError } from '../../util/errors.js';

/** Runs one nft script; resolves with what nft printed (listings), rejects with what it complained of. */
export type NftExec = (script: string) => Promise<string>;

export function spawnNft(binary = 'nft'): NftExec {
  return (script) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(binary, ['-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new PgwError('PGW_E_MEDIA_OFFLOAD', `cannot run ${binary}: ${e.message}`, { cause: e })));
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else reject(new PgwError('PGW_E_MEDIA_OFFLOAD', `${binary} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? ''}`));
      });
      child.stdin.on('error', () => undefined); // it died first: 'close' says why
      child.stdin.end(script);
    });
}
