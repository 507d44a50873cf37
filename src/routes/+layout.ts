// The app is a static PWA: no server rendering, every page prerendered as a shell and run in the browser.
export const ssr = false;
export const prerender = true;
