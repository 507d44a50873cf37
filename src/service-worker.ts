/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The app's service worker (built by SvelteKit, its precache list injected by @vite-pwa/sveltekit's injectManifest):
 * - precaches the app shell only (shell-precache.ts decides what that is) under the file names any static host serves,
 *   so it installs on `python3 -m http.server` as well as under vite preview, and the app opens offline;
 * - serves navigations from that shell (the SPA fallback for routes that are not prerendered pages);
 * - caches the heavy runtimes on first use, same-origin only (runtime-cache-rules.ts);
 * - adds COOP/COEP to every same-origin response it serves (cross-origin-isolation.ts), so the installed app is
 *   cross-origin isolated (multi-threaded wasm) even where the host sends no such headers.
 * Cross-origin requests (Hugging Face, the companion) are not touched: they go straight to the network.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, addPlugins } from 'workbox-precaching';
import { clientsClaim } from 'workbox-core';
import { ExpirationPlugin } from 'workbox-expiration';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkOnly } from 'workbox-strategies';
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { withCrossOriginIsolation } from './lib/pwa/cross-origin-isolation.ts';
import { RUNTIME_CACHE_RULES, runtimeCacheRuleFor } from './lib/pwa/runtime-cache-rules.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

/** Every response this worker hands to the page goes through here (precache, runtime caches, network). */
const isolation: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => withCrossOriginIsolation(response),
};

// A new version takes over at once (registerType 'autoUpdate'): the shell is immutable files plus pages.
void self.skipWaiting();
clientsClaim();

addPlugins([isolation]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Routes that are not prerendered pages (e.g. /model/… deep links) get the SPA shell, as adapter-static's fallback does.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));

for (const rule of RUNTIME_CACHE_RULES) {
  registerRoute(
    ({ url }) => runtimeCacheRuleFor(url, self.location.origin) === rule,
    new CacheFirst({ cacheName: rule.cacheName, plugins: [new ExpirationPlugin({ maxEntries: rule.maxEntries }), isolation] }),
  );
}

// Everything else on this origin: the network, with the isolation headers (workers and scripts need them too).
registerRoute(({ url }) => url.origin === self.location.origin, new NetworkOnly({ plugins: [isolation] }));
