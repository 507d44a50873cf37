/**
 * Vite plugin (build tooling, Node only): the framing headers of frame-policy.ts on every response of `vite preview`
 * (what `npm start` and the end-to-end tests serve) and `vite dev`. Its own plugin, kept out of vite.config.ts's other
 * header work (cross-origin isolation), so each can change alone.
 *
 * The middleware is added directly in the hooks (not as a post hook), so it runs before SvelteKit's, which answers
 * the request; it only sets headers and passes the request on.
 */
import type { Connect, Plugin } from 'vite';
import { frameHeaders } from './frame-policy.ts';

function setFrameHeaders(req: Connect.IncomingMessage, res: import('node:http').ServerResponse, next: Connect.NextFunction): void {
  const pathname = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
  for (const [name, value] of Object.entries(frameHeaders(pathname))) res.setHeader(name, value);
  next();
}

export function frameHeadersPlugin(): Plugin {
  return {
    name: 'rbee-frame-headers',
    configurePreviewServer(server) {
      server.middlewares.use(setFrameHeaders);
    },
    configureServer(server) {
      // Vitest's browser mode runs each test file in a frame of its own runner page: its dev server must allow that.
      if (process.env.VITEST) return;
      server.middlewares.use(setFrameHeaders);
    },
  };
}
