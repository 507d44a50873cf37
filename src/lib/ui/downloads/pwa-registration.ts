/// <reference types="vite-plugin-pwa/client" />
/**
 * Registers the service worker that vite-plugin-pwa builds (build/sw.js: the app shell precached, navigations served
 * from it), so the installed app opens offline. SvelteKit's static build has no index.html for the plugin to inject
 * a registration script into, hence this explicit call. In `vite dev` there is no service worker: nothing happens.
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
