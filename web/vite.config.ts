import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite';

const here = dirname(fileURLToPath(import.meta.url));

// `npm run dev` (or `just web`) serves the SPA with hot reload and forwards the
// service's paths to a running `hothour` on 127.0.0.1:8080.
const service = process.env.HOTHOUR_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [
    vue(),
    // The message catalogues are compiled to functions here, at build time, so
    // the bundle needs no message compiler (no `new Function`: strict CSP).
    VueI18nPlugin({
      include: [resolve(here, 'src/i18n/locales/**')],
      runtimeOnly: true,
      compositionOnly: true,
      fullInstall: false,
      dropMessageCompiler: true,
      strictMessage: true,
      escapeHtml: false,
    }),
  ],
  resolve: {
    // The runtime-only build everywhere (dev and tests too, not only `vite
    // build`): a message that was not precompiled fails here, not in production.
    alias: { 'vue-i18n': 'vue-i18n/dist/vue-i18n.runtime.esm-bundler.js' },
  },
  server: {
    port: 5173,
    proxy: {
      '/api/v1/ws': { target: service.replace(/^http/, 'ws'), ws: true },
      '/api': service,
      '/docs': service,
      '/health': service,
      '/metrics': service,
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
