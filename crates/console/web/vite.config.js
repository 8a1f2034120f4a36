// Builds the console into ../assets, which the `console` crate embeds in the binary.
// `npm run dev` serves it with hot reload and sends the AWS calls (POST /) to the
// trailwatch at TRAILWATCH_ENDPOINT, keeping the Host header the browser signed.
import { defineConfig } from 'vite';

const endpoint = process.env.TRAILWATCH_ENDPOINT || 'http://127.0.0.1:4566';

export default defineConfig({
  base: '/_trailwatch/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: '../assets',
    emptyOutDir: true,
    assetsDir: '.',
    // The console is one small bundle; no source maps in the binary.
    sourcemap: false,
  },
  server: {
    proxy: { '^/$': { target: endpoint, changeOrigin: false } },
  },
});
