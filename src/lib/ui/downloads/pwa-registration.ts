/// <reference types="vite-plugin-pwa/client" />
/**
 * Registers the app's service worker (src/service-worker.ts → build/service-worker.js: the app shell precached under
 * the file names any static host serves, navigations served from it, COOP/COEP added), so the installed app opens
 * offline. SvelteKit's own registration is off (svelte.config.js) so that vite-plugin-pwa's registerSW handles updates
 * (registerType 'autoUpdate'). In `vite dev` there is no service worker: nothing happens.
 */
export interface PwaEvents {
  /** The app shell is cached: from now on the app opens offline. */
  onOfflineReady?: () => void;
  onError?: (error: unknown) => void;
}

export async function registerServiceWorker(events: PwaEvents = {}): Promise<void> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  try {
    const { registerSW } = await import('virtual:pwa-register');
    registerSW({
      immediate: true,
      onOfflineReady: () => events.onOfflineReady?.(),
      onRegisterError: (e: unknown) => events.onError?.(e),
    });
  } catch (e) {
    events.onError?.(e);
  }
}
