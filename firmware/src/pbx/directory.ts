/**
 * The PBX's view of the practice: who the extensions and hunt groups are.
 * Kept independent of the config schema so the call-control code reads
 * plainly and tests can build one by hand; gateway.ts maps the validated
 * practice document onto it.
 */
export interface Extension {
  number: string;
  name: string;
  password: string;
}

export type HuntStrategy = 'ring-all' | 'sequential';

export interface HuntGroup {
  number: string;
  name: string;
  strategy: HuntStrategy;
  members: string[];
  /** ring-all: how long everyone rings; sequential: how long each member rings. */
  ringSeconds: number;
}

export interface Directory {
  /** The SIP domain phones register to; also the digest realm. */
  domain: string;
  extensions: Map<string, Extension>;
  huntGroups: Map<string, HuntGroup>;
  /** Numbers that must always get out (999, 112): routed by the uplinks layer, never barred. */
  emergencyNumbers: string[];
  /** How long a call to a single extension rings before 480, seconds. */
  extensionRingSeconds: number;
}

export function createDirectory(input: {
  domain: string;
  extensions: Extension[];
  huntGroups?: HuntGroup[];
  emergencyNumbers?: string[];
  extensionRingSeconds?: number;
}): Directory {
  return {
    domain: input.domain,
    extensions: new Map(input.extensions.map((e) => [e.number, e])),
    huntGroups: new Map((input.huntGroups ?? []).map((g) => [g.number, g])),
    emergencyNumbers: input.emergencyNumbers ?? ['999', '112'],
    extensionRingSeconds: input.extensionRingSeconds ?? 60,
  };
}
