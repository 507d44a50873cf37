/**
 * App settings that outlive a page: the Hugging Face hub base URL (so a mirror, or a local server in the end-to-end
 * tests, can stand in for https://huggingface.co) and the preferred engine for GGUF models.
 *
 * Precedence: `?hub=` on the URL (kept for this tab only, in sessionStorage, so a link cannot change a user's saved
 * setting) → the saved setting (localStorage) → the default.
 */
import { parseEngineChoice, type EngineChoice } from '../compat/check.ts';

export const DEFAULT_HUB_BASE = 'https://huggingface.co';
const SAVED_KEY = 'rbee-web:hub-base';
const TAB_KEY = 'rbee-web:hub-base:tab';

function storage(kind: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return globalThis[kind];
  } catch {
    return undefined; // storage can be disabled (privacy settings); fall back to the default
  }
}

/** Accepts only absolute http(s) URLs; returns the base without a trailing slash, or undefined. */
export function normaliseHubBase(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** Reads `?hub=` from a page URL and keeps it for this tab. Call on navigation. */
export function adoptHubFromUrl(url: URL): void {
  const param = url.searchParams.get('hub');
  if (param === null) return;
  const base = normaliseHubBase(param);
  if (base) storage('sessionStorage')?.setItem(TAB_KEY, base);
}

export function hubBase(): string {
  return storage('sessionStorage')?.getItem(TAB_KEY) ?? savedHubBase();
}

export function savedHubBase(): string {
  return storage('localStorage')?.getItem(SAVED_KEY) ?? DEFAULT_HUB_BASE;
}

/** Saves the hub base URL; an empty value restores the default. Returns false when the URL is not valid. */
export function saveHubBase(value: string): boolean {
  const store = storage('localStorage');
  if (value.trim() === '') {
    store?.removeItem(SAVED_KEY);
    storage('sessionStorage')?.removeItem(TAB_KEY);
    return true;
  }
  const base = normaliseHubBase(value);
  if (!base) return false;
  store?.setItem(SAVED_KEY, base);
  storage('sessionStorage')?.removeItem(TAB_KEY);
  return true;
}

/**
 * The engine the user prefers for GGUF models (Settings): 'webgpu', 'wasm' (CPU, WebAssembly) or 'companion';
 * undefined: what this device runs best (see check.ts). A chat link's `&engine=` overrides it for that chat.
 */
const ENGINE_KEY = 'rbee-web:engine';

export function savedEngineChoice(): EngineChoice | undefined {
  return parseEngineChoice(storage('localStorage')?.getItem(ENGINE_KEY));
}

export function saveEngineChoice(choice: EngineChoice | undefined): void {
  if (choice) storage('localStorage')?.setItem(ENGINE_KEY, choice);
  else storage('localStorage')?.removeItem(ENGINE_KEY);
}

/** The engine a page's URL asks for (`&engine=webgpu|wasm|companion`), else the saved preference. */
export function engineChoiceFor(url: URL): EngineChoice | undefined {
  return parseEngineChoice(url.searchParams.get('engine')) ?? savedEngineChoice();
}
