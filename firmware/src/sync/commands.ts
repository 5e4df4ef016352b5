/**
 * Commands from the cloud on `cmd/{name}`, answered with MQTT 5
 * request/response (§4.10): the reply goes to the request's Response Topic
 * and carries its Correlation Data back unchanged, so the caller can match
 * it. A request without a Response Topic is run and not answered.
 *
 * The request payload is JSON parameters (or empty). The reply is a
 * CommandReply: `{ ok: true, command, result, at }` or
 * `{ ok: false, command, error: { code, message }, at }`; an unknown
 * command gets `unknown-command`.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { InboundMessage, PublishOptions } from './mqtt-connection.js';
import type { CommandErrorCode, CommandReply } from './payloads.js';

/** Thrown by a handler to answer with a specific error code. */
export class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export type CommandHandler = (params: unknown) => Promise<unknown>;

export interface CommandRouterOptions {
  clock: Clock;
  logger: Logger;
  /** Publishes the reply (QoS 1, not retained) to the Response Topic. */
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
}

export class CommandRouter {
  private readonly handlers = new Map<string, CommandHandler>();
  private handledCount = 0;

  constructor(private readonly options: CommandRouterOptions) {}

  register(name: string, handler: CommandHandler): void {
    this.handlers.set(name, handler);
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  get handled(): number {
    return this.handledCount;
  }

  /** Runs `name` for `msg` and answers it; never throws. */
  async handle(name: string, msg: InboundMessage): Promise<CommandReply> {
    this.handledCount++;
    const reply = await this.run(name, msg.payload);
    const log = this.options.logger;
    log.info({ command: name, ok: reply.ok, ...(reply.ok ? {} : { error: reply.error.code }) }, 'command handled');
    if (!msg.responseTopic) {
      log.debug({ command: name }, 'command had no Response Topic; no reply sent');
      return reply;
    }
    try {
      await this.options.publish(msg.responseTopic, JSON.stringify(reply), {
        qos: 1,
        retain: false,
        properties: {
          ...(msg.correlationData ? { correlationData: msg.correlationData } : {}),
          contentType: 'application/json',
        },
      });
    } catch (e) {
      log.warn({ command: name, err: (e as Error).message }, 'command reply not sent');
    }
    return reply;
  }

  private async run(name: string, payload: Buffer): Promise<CommandReply> {
    const at = (): string => new Date(this.options.clock.now()).toISOString();
    const fail = (code: CommandErrorCode, message: string): CommandReply => ({ ok: false, command: name, error: { code, message }, at: at() });
    const handler = this.handlers.get(name);
    if (!handler) return fail('unknown-command', `unknown command "${name}"; known: ${this.names().join(', ')}`);
    let params: unknown;
    const text = payload.toString('utf8').trim();
    if (text !== '') {
      try {
        params = JSON.parse(text);
      } catch {
        return fail('bad-request', 'the request payload is not JSON');
      }
    }
    try {
      const result = await handler(params);
      return { ok: true, command: name, result: result ?? null, at: at() };
    } catch (e) {
      if (e instanceof CommandError) return fail(e.code, e.message);
      return fail('failed', (e as Error).message ?? String(e));
    }
  }
}
