// /compat.json: the compatibility matrix as data, written once at build time (the app has no server of its own).
import pkg from '../../../package.json';
import { compatDocument } from '../../lib/compat/matrix-data.ts';

export const prerender = true;

export function GET(): Response {
  return new Response(`${JSON.stringify(compatDocument(pkg.version), null, 1)}\n`, {
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  });
}
