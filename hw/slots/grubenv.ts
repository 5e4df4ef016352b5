/**
 * GRUB's environment block (grub-editenv(1), GRUB manual "Environment
 * block"): a file of exactly 1024 bytes that GRUB itself can rewrite in
 * place (it cannot allocate blocks at boot), holding
 *
 *   "# GRUB Environment Block\n"    the signature
 *   name=value\n ...                 one variable per line; `\` and newline in a value are escaped with `\`
 *   ####...                          padding with `#` to 1024 bytes
 *
 * Lines starting with `#` after the signature are comments (Debian's
 * grub-editenv adds a warning line). We write without comments, and refuse
 * a block that would not fit rather than truncate it.
 */
import { PgwError } from '../../firmware/src/util/errors.js';

export const GRUBENV_SIZE = 1024;
export const GRUBENV_SIGNATURE = '# GRUB Environment Block\n';

function envErr(message: string): PgwError {
  return new PgwError('PGW_E_OTA_SLOT', `grubenv: ${message}`);
}

export function parseGrubEnv(buf: Buffer): Map<string, string> {
  const text = buf.toString('latin1');
  if (!text.startsWith(GRUBENV_SIGNATURE)) throw envErr('bad signature (not a GRUB environment block)');
  const vars = new Map<string, string>();
  const body = text.slice(GRUBENV_SIGNATURE.length);
  let i = 0;
  while (i < body.length) {
    if (body[i] === '#') {
      // A comment line, or the padding that runs to the end.
      const nl = body.indexOf('\n', i);
      if (nl < 0) break;
      i = nl + 1;
      continue;
    }
    if (body[i] === '\n') {
      i++;
      continue;
    }
    // name=value with escapes, up to an unescaped newline.
    const eq = body.indexOf('=', i);
    if (eq < 0) throw envErr('a line without "="');
    const name = body.slice(i, eq);
    let value = '';
    let j = eq + 1;
    for (; j < body.length && body[j] !== '\n'; j++) {
      if (body[j] === '\\' && j + 1 < body.length) {
        j++;
        value += body[j];
      } else value += body[j];
    }
    if (j >= body.length) throw envErr(`the line of ${name} is not terminated`);
    vars.set(name, value);
    i = j + 1;
  }
  return vars;
}

export function serializeGrubEnv(vars: ReadonlyMap<string, string>): Buffer {
  let text = GRUBENV_SIGNATURE;
  for (const [name, value] of vars) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw envErr(`bad variable name "${name}"`);
    text += `${name}=${value.replace(/[\\\n]/g, (c) => `\\${c}`)}\n`;
  }
  const used = Buffer.byteLength(text, 'latin1');
  if (used > GRUBENV_SIZE) throw envErr(`the variables need ${used} bytes; the block holds ${GRUBENV_SIZE}`);
  return Buffer.from(text + '#'.repeat(GRUBENV_SIZE - used), 'latin1');
}
