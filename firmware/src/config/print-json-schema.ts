/**
 * Prints docs/config.schema.json:
 *   node --import tsx firmware/src/config/print-json-schema.ts > docs/config.schema.json
 * (also `pgw config-schema`).
 */
import { configJsonSchemaText } from './json-schema.js';

process.stdout.write(configJsonSchemaText());
