import { defineConfig } from 'tsup';

// One bundle per entry point; dependencies stay external (installed by npm on the box).
export default defineConfig({
  entry: { cli: 'firmware/src/cli/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  clean: true,
  splitting: false,
  banner: { js: '#!/usr/bin/env node' },
});
