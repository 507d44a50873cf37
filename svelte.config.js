import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A static PWA: every page is rendered in the browser; the app needs no server of its own.
    adapter: adapter({ fallback: 'index.html' }),
    alias: { $workers: 'src/workers' },
    // src/service-worker.ts is registered by the app (pwa-registration.ts, through vite-plugin-pwa), not by SvelteKit.
    serviceWorker: { register: false },
    // The benchmarks import the app's own modules: type-check them with it, so a changed shape breaks the check, not a
    // benchmark run.
    typescript: {
      config: (config) => {
        config.include.push('../bench/**/*.ts');
      },
    },
  },
};
