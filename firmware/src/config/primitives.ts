/**
 * Field types shared by the device and practice schemas. Each carries the
 * message an installer sees when it is wrong.
 */
import { z } from 'zod';
import { parseConfigSipUri } from './sip-uri.js';
import { parseHostPort } from './host-port.js';

/** E.164 (ITU-T E.164 §6): `+`, a country code not starting with 0, at most 15 digits. */
export const E164_PATTERN = /^\+[1-9][0-9]{6,14}$/;

export const e164 = () =>
  z.string().regex(E164_PATTERN, { message: 'must be an E.164 number: + then 7 to 15 digits, e.g. +441632960000' });

/** Extension and hunt group numbers: digits only, what a desk phone keypad dials. */
export const internalNumber = () => z.string().regex(/^[0-9]{2,8}$/, { message: 'must be 2 to 8 digits' });

/** Short numbers such as 999 and 112. */
export const shortNumber = () => z.string().regex(/^[0-9]{2,8}$/, { message: 'must be 2 to 8 digits' });

export const sipUri = () =>
  z.string().superRefine((text, ctx) => {
    const r = parseConfigSipUri(text);
    if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
  });

export const hostPort = () =>
  z.string().refine((text) => parseHostPort(text) !== undefined, {
    message: 'must be host:port with port 0-65535, e.g. 127.0.0.1:8080 or [::1]:8080',
  });

/** A host to bind: an IPv4 or IPv6 address (no brackets) or a name. */
export const bindHost = () =>
  z
    .string()
    .regex(/^(?:[0-9A-Fa-f:.]+|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/, { message: 'must be an IP address or host name' });

export const port = () => z.number().int().min(1, { message: 'must be 1-65535' }).max(65535, { message: 'must be 1-65535' });

/** A host name (RFC 1123 §2.1), used for the SIP domain. */
export const hostname = () =>
  z
    .string()
    .max(253)
    .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, {
      message: 'must be a host name, e.g. riverside.pgw.local',
    });

/** An IANA time zone name this Node.js knows (its ICU data). */
export const timeZone = () =>
  z.string().refine(
    (tz) => {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an IANA time zone, e.g. Europe/London' },
  );

/** A file on the box (certificates, keys): absolute, so it does not depend on the working directory. */
export const absolutePath = () => z.string().regex(/^\//, { message: 'must be an absolute path' });

/**
 * A secret (SIP and trunk passwords). Secrets never leave the box in
 * anything it publishes or logs: see redact.ts.
 */
export const secret = (min = 1) =>
  z.string().min(min, { message: min > 1 ? `must be at least ${min} characters` : 'must not be empty' }).max(128);

/** Positive milliseconds / seconds / counts. */
export const positiveInt = () => z.number().int().positive();
