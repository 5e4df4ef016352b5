/**
 * The kernel fast path for pass-through RTP: once a call's media is steady
 * (both phones latched, same codecs and payload numbers both ways, nothing
 * renumbered, not on hold, both phones on the link of the gateway address
 * that faces them), its packets are forwarded by nftables in the receive
 * path (nft-script.ts) instead of being read and re-sent by the relay. The
 * call stays anchored: packets still go phone → gateway → phone with the
 * gateway's addresses and ports, as the SDP said; only the work moves out
 * of user space (two system calls and a trip through the event loop per
 * packet). MediaRelay decides when a pair goes to the kernel and when it
 * comes back (kernel-path.ts); this class only talks to nft.
 *
 * nft is run for batches of changes, one at a time and in order: changes
 * asked for while one runs go together in the next (a call storm is a few
 * nft runs, not one per call). Counters come from `list map` (per-element
 * counters); removing flows lists them in the same batch, so the last
 * counts are read just before the flows go.
 *
 * If nft fails for a removal, the fast path cannot promise that a flow has
 * stopped, and a port must never be reused while the kernel still sends
 * from it: the table is dropped (every flow of every worker falls back to
 * user space, which still has every call configured) and this instance
 * stops offloading.
 */
import type { Logger } from '../../util/logger.js';
import { addFlowsScript, deleteFlowsScript, deviceChainName, deviceChainScript, dropTableScript, flowKey, listCountersScript, parseCounters, parseElements, tableScript } from './nft-script.js';
import type { FlowCount, KernelFlow, KernelFlowKey } from './nft-script.js';
import type { NftExec } from './nft-exec.js';
import type { HostLinks } from './host-links.js';

export interface KernelOffloadOptions {
  exec: NftExec;
  links: HostLinks;
  logger: Logger;
  /** The whole RTP range of the gateway (every worker's share): the chains match it. */
  portMin: number;
  portMax: number;
}

type Op =
  | { kind: 'add'; flows: KernelFlow[]; done: (ok: boolean) => void }
  | { kind: 'remove'; flows: KernelFlow[]; done: (counts: Map<string, FlowCount>) => void }
  | { kind: 'list'; done: (counts: Map<string, FlowCount>) => void };

export class KernelOffload {
  private readonly exec: NftExec;
  private readonly log: Logger;
  readonly links: HostLinks;
  private readonly portMin: number;
  private readonly portMax: number;
  private readonly chains = new Set<string>();
  private queue: Op[] = [];
  private running = false;
  private disabledValue = false;

  constructor(o: KernelOffloadOptions) {
    this.exec = o.exec;
    this.links = o.links;
    this.log = o.logger;
    this.portMin = o.portMin;
    this.portMax = o.portMax;
  }

  /** Creates the table afresh (left over from a previous run: dropped with its flows). Once per gateway, before any relay offloads. */
  static async install(exec: NftExec): Promise<void> {
    await exec(tableScript());
  }

  static async uninstall(exec: NftExec): Promise<void> {
    await exec(dropTableScript());
  }

  /**
   * Removes every flow entering on a port in [portMin, portMax]: a media
   * worker that died cannot take its own flows out, and its ports are about
   * to be bound again by the worker that replaces it.
   */
  static async purgePorts(exec: NftExec, portMin: number, portMax: number): Promise<number> {
    const mine: KernelFlowKey[] = parseElements(await exec(listCountersScript()))
      .filter((e) => e.inPort >= portMin && e.inPort <= portMax)
      .map((e) => ({ inPort: e.inPort, srcAddress: e.srcAddress, srcPort: e.srcPort, payloadTypes: [e.payloadType] }));
    if (mine.length > 0) await exec(deleteFlowsScript(mine));
    return mine.length;
  }

  /** False once nft failed to remove flows: nothing more is offloaded. */
  get enabled(): boolean {
    return !this.disabledValue;
  }

  /** Sends these flows through the kernel; resolves false if nft refused (they stay in user space). */
  add(flows: KernelFlow[]): Promise<boolean> {
    if (this.disabledValue) return Promise.resolve(false);
    return new Promise((done) => this.push({ kind: 'add', flows, done }));
  }

  /** Takes flows out of the kernel; resolves, once the kernel no longer forwards them, with their last counts. */
  remove(flows: KernelFlow[]): Promise<Map<string, FlowCount>> {
    return new Promise((done) => this.push({ kind: 'remove', flows, done }));
  }

  /** The counts of every flow in the table (all workers'), by flowKey. */
  counts(): Promise<Map<string, FlowCount>> {
    if (this.disabledValue) return Promise.resolve(new Map());
    return new Promise((done) => this.push({ kind: 'list', done }));
  }

  private push(op: Op): void {
    this.queue.push(op);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private chainScripts(flows: readonly KernelFlow[]): { script: string; names: string[] } {
    let script = '';
    const names: string[] = [];
    for (const f of flows) {
      const name = deviceChainName(f.device);
      if (this.chains.has(name) || names.includes(name)) continue;
      names.push(name);
      script += deviceChainScript(f.device, this.portMin, this.portMax);
    }
    return { script, names };
  }

  /** One nft run for the whole batch; if it fails, each op on its own, so one bad op does not sink the others. */
  private async runBatch(batch: Op[]): Promise<void> {
    if (batch.length > 1 && !this.disabledValue) {
      const wantsList = batch.some((op) => op.kind !== 'add');
      const adds = batch.flatMap((op) => (op.kind === 'add' ? op.flows : []));
      const chains = this.chainScripts(adds);
      let script = wantsList ? listCountersScript() : '';
      for (const op of batch) {
        if (op.kind === 'add') script += addFlowsScript(op.flows);
        else if (op.kind === 'remove') script += deleteFlowsScript(op.flows);
      }
      try {
        const out = await this.exec(chains.script + script);
        for (const n of chains.names) this.chains.add(n);
        const counts = parseCounters(out);
        for (const op of batch) {
          if (op.kind === 'add') op.done(true);
          else op.done(counts);
        }
        return;
      } catch (e) {
        this.log.debug({ err: e instanceof Error ? e.message : String(e), ops: batch.length }, 'media offload: batch refused, running its changes one by one');
      }
    }
    for (const op of batch) await this.runOne(op);
  }

  private async runOne(op: Op): Promise<void> {
    switch (op.kind) {
      case 'add': {
        if (this.disabledValue) return op.done(false);
        const chains = this.chainScripts(op.flows);
        try {
          await this.exec(chains.script + addFlowsScript(op.flows));
          for (const n of chains.names) this.chains.add(n);
          op.done(true);
        } catch (e) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e), flows: op.flows.map((f) => flowKey(f.inPort, f.srcAddress, f.srcPort)) }, 'media offload: nft refused a flow; it stays in user space');
          op.done(false);
        }
        return;
      }
      case 'remove': {
        if (this.disabledValue) return op.done(new Map());
        try {
          op.done(parseCounters(await this.exec(listCountersScript() + deleteFlowsScript(op.flows))));
        } catch (e) {
          await this.disable(e);
          op.done(new Map());
        }
        return;
      }
      case 'list': {
        if (this.disabledValue) return op.done(new Map());
        try {
          op.done(parseCounters(await this.exec(listCountersScript())));
        } catch (e) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'media offload: cannot read the kernel counters');
          op.done(new Map());
        }
        return;
      }
      default: {
        const never: never = op;
        throw new Error(`unknown offload op ${JSON.stringify(never)}`);
      }
    }
  }

  /** A flow could not be removed: drop the whole table so nothing stale forwards, and stop offloading. */
  private async disable(cause: unknown): Promise<void> {
    this.disabledValue = true;
    const err = cause instanceof Error ? cause.message : String(cause);
    try {
      await this.exec(dropTableScript());
      this.log.error({ err }, 'media offload: nft could not remove a flow; the kernel fast path is off and all media is relayed in user space');
    } catch (e) {
      this.log.error({ err, dropErr: e instanceof Error ? e.message : String(e) }, 'media offload: nft could not remove a flow nor drop its table');
    }
  }
}
