/** Reading config documents from disk, with errors an installer can act on. */
import { readFile } from 'node:fs/promises';
import { PgwError } from '../util/errors.js';
import type { GatewayFile } from './gateway-file-schema.js';
import { validateGatewayFile } from './validate.js';

/**
 * Reads and parses a JSON file. PGW_E_CONFIG_READ when it cannot be read
 * or is not JSON; the message names the file and, for bad JSON, the line
 * and column.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message);
    throw new PgwError('PGW_E_CONFIG_READ', `cannot read ${path}: ${why}`, { cause: e, context: { file: path } });
  }
  try {
    return JSON.parse(stripBom(text)) as unknown;
  } catch (e) {
    throw new PgwError('PGW_E_CONFIG_READ', `${path} is not JSON: ${describeJsonError(text, e as Error)}`, {
      cause: e,
      context: { file: path },
    });
  }
}

/**
 * Reads a gateway file and validates it. PGW_E_CONFIG_READ as above;
 * PGW_E_CONFIG_INVALID with `context.errors` (ConfigProblem[]) when it does
 * not validate.
 */
export async function loadGatewayFile(path: string): Promise<GatewayFile> {
  const json = await readJsonFile(path);
  const r = validateGatewayFile(json);
  if (!r.ok) {
    throw new PgwError('PGW_E_CONFIG_INVALID', `${path} is not a valid gateway file (${r.errors.length} problem${r.errors.length === 1 ? '' : 's'})`, {
      context: { file: path, errors: r.errors },
    });
  }
  return r.value;
}

// Editors on Windows save UTF-8 with a BOM, which JSON.parse rejects.
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * V8 says "... in JSON at position N" or "Unexpected token 'x', "<the whole
 * text>" is not valid JSON"; installers want a line and column, and not the
 * file echoed back (it may hold passwords).
 */
export function describeJsonError(text: string, e: Error): string {
  const msg = e.message.replace(/, ".*" is not valid JSON$/s, '');
  const m = / in JSON at position (\d+)/.exec(msg);
  if (!m) return msg;
  const pos = Number(m[1]);
  const before = stripBom(text).slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${msg.slice(0, m.index)} at line ${line} column ${column}`;
}
