/**
 * The JSON Schema of the gateway file, generated from the zod schema so the
 * two cannot drift (ARCHITECTURE.md, convention 10). docs/config.schema.json
 * is this output; tests/unit/config/json-schema.test.ts fails when the
 * committed file differs. It describes the input form (defaults optional)
 * and the structure; the cross-field rules (practice-checks.ts) are in
 * docs/CONTRACT.md, and `pgw check-config` applies both.
 */
import { z } from 'zod';
import { GatewayFileSchema } from './gateway-file-schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(GatewayFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' });
  // A practice document on its own is `#/properties/practice`.
  const { $schema, ...rest } = schema;
  return { $schema, title: 'Practice gateway file', ...rest };
}

/** The text of docs/config.schema.json: stable key order from the schema, two-space indent, final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
