import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// `npm run dev` (or `just web`) serves the SPA with hot reload and forwards the
// service's paths to a running `hothour` on 127.0.0.1:8080.
const service = process.env.HOTHOUR_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
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
