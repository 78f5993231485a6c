// Builds the web page into web/dist, which todo-backend serves. `npm run build:web -w examples/todo`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // React's automatic JSX runtime through Vite's own transformer: no plugin needed for a page this small.
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  // `vite --config web/vite.config.mts` in dev: API calls go to the backend of `weft run -f`.
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
});
