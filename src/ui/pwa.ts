/// <reference types="vite-plugin-pwa/client" />
import { registerSW } from 'virtual:pwa-register';

/**
 * Registers the service worker that vite-plugin-pwa generates (see vite.config.ts): it precaches the
 * app shell (HTML, JS including the engine worker bundle, icons, manifest) so the installed app opens
 * offline. Model bytes are not in it: they live in OPFS. Production builds only — the dev server has
 * no service worker, so nothing is cached while developing.
 *
 * `registerType: 'autoUpdate'`: a new version installs in the background, takes over at once, and
 * the page reloads so that it never runs old code against the new precache.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  registerSW({
    immediate: true,
    onOfflineReady: () => console.info('[layerstream] app cached: it now opens offline'),
    onNeedReload: () => {
      console.info('[layerstream] a new version is active: reloading');
      location.reload();
    },
    onRegisteredSW: (url) => console.info(`[layerstream] service worker registered: ${url}`),
    onRegisterError: (e: unknown) => console.warn('[layerstream] service worker registration failed', e),
  });
}
