import { defineConfig } from 'tsup';

// One bundle per entry point; dependencies stay external (installed by npm on the box).
export default defineConfig({
  // The media worker is its own entry: ThreadedMediaRelay starts dist/media-worker.js as a thread.
  entry: { cli: 'firmware/src/cli/main.ts', 'media-worker': 'firmware/src/media/relay/worker/relay-worker.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  clean: true,
  splitting: false,
  banner: { js: '#!/usr/bin/env node' },
});
