/**
 * The modem's LinkHealth in the shape the uplinks read an interface's state
 * (firmware/src/uplinks/link-watcher.ts, LinkStateSource: start(onChange),
 * stop(), current(), description), so a trunk that leaves by 4G fails over
 * the moment the modem loses service or its data path, as it would on a
 * pulled cable. Structural: hw does not import the uplinks layer.
 */
import type { LinkHealthSource } from './link-health.js';

export type ModemLinkState = 'up' | 'down';

export interface ModemLinkStateSource {
  start(onChange: (state: ModemLinkState) => void): void;
  stop(): void;
  current(): ModemLinkState;
  readonly description: string;
}

export function modemLinkStateSource(modem: LinkHealthSource, description = '4G modem'): ModemLinkStateSource {
  let off: (() => void) | undefined;
  const state = (): ModemLinkState => (modem.linkHealth().up ? 'up' : 'down');
  return {
    description,
    current: state,
    start(onChange) {
      off?.();
      let last = state();
      off = modem.onLinkHealth(() => {
        const now = state();
        if (now !== last) {
          last = now;
          onChange(now);
        }
      });
    },
    stop() {
      off?.();
      off = undefined;
    },
  };
}
