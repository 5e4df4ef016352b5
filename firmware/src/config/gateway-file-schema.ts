/**
 * The gateway file: `device` and, optionally, an initial `practice`
 * (CONTRACT.md). `../shared/examples/gateway.json` is the reference and
 * must always validate (tests/unit/config/example.test.ts).
 */
import { z } from 'zod';
import { DeviceSchema } from './device-schema.js';
import { PracticeSchema } from './practice-schema.js';

export const GatewayFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Editors may point this at docs/config.schema.json.'),
    device: DeviceSchema,
    practice: PracticeSchema.optional().describe('An initial practice config; the cloud replaces it with newer versions.'),
  })
  .describe('Practice gateway file: device settings and an optional practice config.');

export type GatewayFile = z.output<typeof GatewayFileSchema>;
export type GatewayFileInput = z.input<typeof GatewayFileSchema>;
