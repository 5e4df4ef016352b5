/**
 * The practice config (CONTRACT.md "The gateway file"): a versioned
 * document the cloud pushes over MQTT (issue 3) or a file seeds. This is
 * the structure and the defaults; rules that span fields (unique numbers,
 * members that exist, ...) are in practice-checks.ts so that every
 * problem gets its own path.
 *
 * Objects are strict: an unknown field is reported, because a typo such as
 * `ringSecond` would otherwise be dropped silently and the default used.
 */
import { z } from 'zod';
import {
  absolutePath,
  bindHost,
  e164,
  hostname,
  internalNumber,
  port,
  positiveInt,
  secret,
  shortNumber,
  sipUri,
  timeZone,
} from './primitives.js';

/** Extension passwords guard digest auth against guessing (RFC 8760); 8 is the floor. */
export const MIN_SIP_PASSWORD = 8;

export const SiteSchema = z.strictObject({
  name: z.string().min(1).max(100).describe('The practice name, shown to admins.'),
  timezone: timeZone().default('Europe/London').describe('IANA time zone for schedules and call records.'),
  mainNumber: e164().optional().describe("The practice's main number, presented on outbound calls where a trunk requires it."),
});

export const SipTransportSchema = z.enum(['udp', 'tcp', 'tls']);

export const SipListenSchema = z.strictObject({
  transport: SipTransportSchema,
  host: bindHost().default('0.0.0.0').describe('Address to bind; 0.0.0.0 for every IPv4 interface.'),
  port: port().default(5060),
  tls: z
    .strictObject({ cert: absolutePath(), key: absolutePath() })
    .optional()
    .describe('Certificate and key files on the box; required when transport is tls.'),
});

export const DEFAULT_SIP_LISTEN = [
  { transport: 'udp', host: '0.0.0.0', port: 5060 },
  { transport: 'tcp', host: '0.0.0.0', port: 5060 },
] as const;

export const CodecSchema = z.enum(['PCMA', 'PCMU', 'G722']);

export const RtpSchema = z.strictObject({
  portMin: port().default(16384).describe('First RTP port; even (RFC 3550 §11: RTP on even ports, RTCP on the next odd one).'),
  portMax: port().default(32767).describe('Last port of the RTP range.'),
  timeoutSeconds: positiveInt()
    .default(60)
    .describe('A call whose media has been silent (no RTP or RTCP on any leg) this long is hung up and logged.'),
});

export const RegistrationLimitsSchema = z.strictObject({
  minExpires: positiveInt().default(60).describe('Shorter REGISTER expiries get 423 Interval Too Brief (RFC 3261 §10.3).'),
  maxExpires: positiveInt().default(3600).describe('Longer expiries are cut down to this.'),
  defaultExpires: positiveInt().default(600).describe('Used when a REGISTER asks for no expiry.'),
  maxContacts: positiveInt().default(5).describe('Contacts kept per extension.'),
});

export const SessionTimerSchema = z.strictObject({
  expires: positiveInt().default(1800).describe('Session-Expires offered (RFC 4028).'),
  minSE: z.number().int().min(90).default(90).describe('Min-SE; 422 below it (RFC 4028 §6, never under 90).'),
});

export const SipSchema = z.strictObject({
  domain: hostname().optional().describe("Domain phones may register to, besides the gateway's IP address; also the digest realm."),
  listen: z
    .array(SipListenSchema)
    .min(1)
    .default(() => DEFAULT_SIP_LISTEN.map((l) => ({ ...l })))
    .describe('SIP listening points; default UDP and TCP on 0.0.0.0:5060.'),
  rtp: RtpSchema.prefault({}),
  codecs: z
    .array(CodecSchema)
    .min(1)
    .default((): Codec[] => ['PCMA', 'PCMU', 'G722'])
    .describe('Codecs offered, in order of preference.'),
  registration: RegistrationLimitsSchema.prefault({}),
  sessionTimers: SessionTimerSchema.prefault({}),
  digestAlgorithms: z
    .array(z.enum(['MD5', 'SHA-256']))
    .min(1)
    .refine((a) => new Set(a).size === a.length, { message: 'must not repeat an algorithm' })
    .default((): Array<'MD5' | 'SHA-256'> => ['MD5'])
    .describe(
      'Digest algorithms challenged with, one WWW-Authenticate each, in this order (RFC 8760). MD5 only by default: ' +
        'libre-based clients (baresip) and older desk-phone firmware fail a registration outright when any challenge names SHA-256. ' +
        'Add SHA-256 once every phone of the practice supports it.',
    ),
});

export const CloudAccountSchema = z
  .strictObject({
    username: z.string().min(1).max(64),
    authUsername: z.string().min(1).max(64).optional().describe('Digest username when it differs from the AOR user.'),
    password: secret(),
  })
  .describe("This extension's credentials on the cloud platform, for uplinks.cloud.mode register.");

export const VoicemailSchema = z.strictObject({
  enabled: z.boolean().default(true),
  pin: z
    .string()
    .regex(/^[0-9]{4,8}$/, { message: 'must be 4 to 8 digits' })
    .optional()
    .describe('Mailbox PIN; a secret.'),
  email: z.email().optional().describe('Where to send new messages.'),
});

export const ExtensionSchema = z.strictObject({
  number: internalNumber(),
  name: z.string().min(1).max(64).describe('Display name, used as caller ID name unless callerIdName is set.'),
  password: secret(8).describe('SIP digest password of the phone (a secret).'),
  callerIdName: z.string().min(1).max(64).optional().describe('Caller ID name shown to internal callees.'),
  outboundCallerId: e164().optional().describe('Number presented on external calls instead of the main number (a DID the practice owns).'),
  voicemail: VoicemailSchema.optional(),
  cloudAccount: CloudAccountSchema.optional(),
});

export const HuntStrategySchema = z.enum(['ring-all', 'sequential']);

export const HuntGroupSchema = z.strictObject({
  number: internalNumber(),
  name: z.string().min(1).max(64),
  strategy: HuntStrategySchema.default('ring-all'),
  members: z.array(internalNumber()).min(1).describe('Extension numbers, in order for sequential.'),
  ringSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(30)
    .describe('ring-all: how long everyone rings; sequential: how long each member rings.'),
  overflow: internalNumber().optional().describe('Extension or hunt group that gets the call when nobody answers.'),
});

export const ProbeSchema = z.strictObject({
  intervalMs: z.number().int().min(100).default(1000).describe('OPTIONS probe interval.'),
  timeoutMs: z.number().int().min(100).optional().describe('A probe not answered in this time is lost; default intervalMs.'),
  failAfter: positiveInt().default(2).describe('Lost probes in a row that mark the uplink down.'),
  recoverAfterMs: z.number().int().min(0).default(30000).describe('Good probes for this long mark it up again.'),
});

export const UplinkTlsSchema = z.strictObject({
  ca: absolutePath().optional().describe('CA bundle to verify the peer with; default the system store.'),
  cert: absolutePath().optional().describe('Client certificate, when the peer wants one.'),
  key: absolutePath().optional(),
  serverName: hostname().optional().describe('Name to check in the peer certificate; default the URI host.'),
});

export const InterfaceRoleSchema = z.enum(['lan', 'hscn', 'wan']);

/** How a trunk wants numbers written (uplinks/uk-numbers.ts formatForUplink). */
export const NumberFormatSchema = z.enum(['e164', 'e164-no-plus', 'national']);

export const CloudUplinkSchema = z.strictObject({
  mode: z
    .enum(['trunk', 'register'])
    .default('trunk')
    .describe('trunk: the site is one peer; register: each extension registers upstream with its cloudAccount.'),
  proxy: sipUri().describe('The cloud SBC: sip: or sips: URI; DNS SRV/A per RFC 3263.'),
  domain: hostname().optional().describe('Upstream domain for register mode; default the proxy host.'),
  interface: InterfaceRoleSchema.default('hscn').describe('The interface role that faces the cloud.'),
  tls: UplinkTlsSchema.optional(),
  registerExpires: z.number().int().min(60).default(600).describe('Expiry asked for upstream registrations (register mode).'),
  probe: ProbeSchema.prefault({}),
});

export const TrunkSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'must be lower-case letters, digits and dashes, up to 32' })
    .describe('Uplink name in status and events; "cloud" is taken.'),
  registrar: sipUri().describe('Where the trunk registers (hot standby).'),
  proxy: sipUri().optional().describe('Outbound proxy for calls, when it differs from the registrar.'),
  username: z.string().min(1).max(64),
  authUsername: z.string().min(1).max(64).optional(),
  password: secret(),
  callerId: e164().optional().describe('Number presented on calls over this trunk.'),
  numberFormat: NumberFormatSchema.default('e164').describe(
    'How the carrier wants numbers in the Request-URI, To, From and P-Asserted-Identity: e164 (+441632960123), ' +
      'e164-no-plus (441632960123) or national (01632960123; other countries 00…). Emergency numbers and short codes go as dialled.',
  ),
  interface: InterfaceRoleSchema.default('wan'),
  tls: UplinkTlsSchema.optional(),
  registerExpires: z.number().int().min(60).default(600),
  probe: ProbeSchema.prefault({}),
});

export const UplinksSchema = z.strictObject({
  cloud: CloudUplinkSchema.optional().describe('The cloud telephony platform over HSCN; absent: no cloud uplink.'),
  trunks: z.array(TrunkSchema).default(() => []).describe('Backup trunks, tried in order.'),
});

export const InboundRouteSchema = z.strictObject({
  did: e164().describe('A number the practice owns, as the uplink delivers it.'),
  destination: internalNumber().describe('Extension or hunt group number.'),
});

export const EmergencySchema = z.strictObject({
  numbers: z
    .array(shortNumber())
    .default(() => ['999', '112'])
    .describe('Always routed out, bypassing every restriction; must keep 999 and 112.'),
});

export const DialPlanSchema = z.strictObject({
  outsideLinePrefix: z
    .string()
    .regex(/^[0-9]$/, { message: 'must be one digit' })
    .optional()
    .describe('Digit dialled before external numbers (e.g. 9); stripped before the number goes out.'),
  countryCode: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/, { message: 'must be a country calling code, e.g. 44' })
    .default('44')
    .describe('For normalising national numbers (0...) to E.164.'),
});

export const CallsSchema = z.strictObject({
  ringSeconds: z.number().int().min(1).max(600).default(60).describe('How long a call to one extension rings before 480.'),
  deadMediaSeconds: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .default(30)
    .describe('An answered call from which no RTP has come for this long (not on hold) is hung up and logged.'),
});

export const PracticeSchema = z
  .strictObject({
    version: z
      .number({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a positive integer') })
      .int({ message: 'must be a positive integer' })
      .positive({ message: 'must be a positive integer' })
      .describe('Grows with each change; the gateway ignores versions not newer than the applied one.'),
    site: SiteSchema,
    sip: SipSchema,
    extensions: z.array(ExtensionSchema),
    huntGroups: z.array(HuntGroupSchema).default(() => []),
    uplinks: UplinksSchema.optional().describe('Absent: internal calls only.'),
    inbound: z.array(InboundRouteSchema).default(() => []),
    emergency: EmergencySchema.prefault({}),
    dialPlan: DialPlanSchema.prefault({}),
    calls: CallsSchema.prefault({}),
  })
  .describe('The practice config: a versioned document pushed by the cloud or seeded from a file.');

/** A practice as validated, with every default filled in. */
export type Practice = z.output<typeof PracticeSchema>;
/** A practice as written (defaults may be missing). */
export type PracticeInput = z.input<typeof PracticeSchema>;
export type SiteConfig = Practice['site'];
export type SipConfig = Practice['sip'];
export type SipListenConfig = z.output<typeof SipListenSchema>;
export type SipTransport = z.output<typeof SipTransportSchema>;
export type Codec = z.output<typeof CodecSchema>;
export type RtpConfig = z.output<typeof RtpSchema>;
export type ExtensionConfig = z.output<typeof ExtensionSchema>;
export type CloudAccountConfig = z.output<typeof CloudAccountSchema>;
export type HuntGroupConfig = z.output<typeof HuntGroupSchema>;
export type HuntStrategy = z.output<typeof HuntStrategySchema>;
export type UplinksConfig = z.output<typeof UplinksSchema>;
export type CloudUplinkConfig = z.output<typeof CloudUplinkSchema>;
export type TrunkConfig = z.output<typeof TrunkSchema>;
export type ProbeConfig = z.output<typeof ProbeSchema>;
export type UplinkTlsConfig = z.output<typeof UplinkTlsSchema>;
export type InterfaceRole = z.output<typeof InterfaceRoleSchema>;
export type TrunkNumberFormat = z.output<typeof NumberFormatSchema>;
export type InboundRoute = z.output<typeof InboundRouteSchema>;
export type DialPlanConfig = z.output<typeof DialPlanSchema>;
