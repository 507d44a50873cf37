// `npm start`: install what is missing, build the static app, serve it on localhost and print the URL.
import { execSync } from 'node:child_process';
import { ensurePackages } from './ensure.mjs';

ensurePackages();
execSync('npx vite build', { stdio: 'inherit' });
const port = process.env.PORT ?? '4173';
console.log(`\n[rbee-web] serving the app at http://localhost:${port}/`);
execSync(`npx vite preview --host 127.0.0.1 --port ${port} --strictPort`, { stdio: 'inherit' });
