/**
 * How an AT modem frames its answers (ITU-T V.250 §5.7; 3GPP TS 27.007 §9.2
 * for +CME ERROR). URCs (unsolicited result codes) can arrive between or in
 * the middle of an answer: a line belongs to the answer only when it carries
 * the prefix the command expects, or, for commands without a prefix (ATI),
 * when it does not look like a URC.
 */
import type { ChannelDialect } from '../serial/command-channel.js';

const FINAL_ERRORS = ['ERROR', 'NO CARRIER', 'NO DIALTONE', 'BUSY', 'NO ANSWER'];

/** Lines a Quectel EC2x/EG2x sends on its own (Quectel EC2x AT Commands Manual, "URC"). */
const URC_PREFIXES = ['+CREG:', '+CEREG:', '+CGREG:', '+CPIN:', '+QIND:', '+QUSIM:', '+CFUN:', '+QSTAT:', '+CRING:', '+CMTI:', '+QIURC:'];
const URC_WORDS = ['RDY', 'POWERED DOWN', 'RING'];

export function isUrcLine(line: string): boolean {
  return URC_WORDS.includes(line) || URC_PREFIXES.some((p) => line.startsWith(p));
}

export const AT_DIALECT: ChannelDialect = {
  final(line) {
    if (line === 'OK') return { ok: true };
    if (FINAL_ERRORS.includes(line)) return { ok: false, error: line };
    if (line.startsWith('+CME ERROR:') || line.startsWith('+CMS ERROR:')) return { ok: false, error: line };
    return null;
  },
  isUnsolicited(line, pending) {
    if (pending?.expect !== undefined) return !line.startsWith(pending.expect);
    return isUrcLine(line);
  },
};
