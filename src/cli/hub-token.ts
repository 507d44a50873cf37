/**
 * Which Hugging Face token the CLI sends, and to which hub. The token ($HF_TOKEN, or $HUGGING_FACE_HUB_TOKEN) is a
 * credential for huggingface.co: it goes to the default hub only. A custom `--hub` (a mirror, a local server, or a
 * typo) gets it only when the user says so with `--send-token-to-hub`; otherwise it is left out and a note on stderr
 * says why, so a gated repository's 401 is not a mystery.
 */
import { DEFAULT_HUB } from '../lib/hub/hf.ts';

export const SEND_TOKEN_FLAG = '--send-token-to-hub';

/** The token from the environment, never from the command line (where it would land in shell history). */
function tokenFromEnvironment(): string | undefined {
  return process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

export function isDefaultHub(hub: string): boolean {
  try {
    return new URL(hub).origin === new URL(DEFAULT_HUB).origin;
  } catch {
    return false;
  }
}

/**
 * The token to send to `hub`: the environment's for the default hub, or for a custom hub when `sendToCustomHub`;
 * otherwise undefined (with a one-line note on stderr when a token was there to send).
 */
export function hubTokenFor(hub: string, sendToCustomHub: boolean, warn: (line: string) => void = (l) => console.error(l)): string | undefined {
  const token = tokenFromEnvironment();
  if (!token) return undefined;
  if (isDefaultHub(hub) || sendToCustomHub) return token;
  warn(`rbee-web: HF_TOKEN is set but not sent to ${new URL(hub).origin} (not ${DEFAULT_HUB}); add ${SEND_TOKEN_FLAG} if that hub should have it.`);
  return undefined;
}
