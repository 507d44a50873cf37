/**
 * `rbee-web companion`: a local server that speaks rbee's worker protocol to the app in the browser. It runs a GGUF
 * model itself with llama.cpp (CUDA / Metal / Vulkan / CPU, whichever this machine has), or proxies a running rbee
 * worker or hive and adds what browsers need (CORS for the app's origin, Private Network Access, a pairing token).
 */
import { parseArgs } from 'node:util';
import { RbeeError } from '../lib/errors.ts';
import { COMPANION_PORT } from '../lib/companion/protocol.ts';
import { AccessPolicy, DEFAULT_APP_ORIGINS, isLoopbackHost, newPairingToken, normaliseOrigin } from '../server/access-policy.ts';
import type { CompanionBackend } from '../server/backend.ts';
import { defaultThreads, LlamaBackend, type GpuChoice } from '../server/llama-backend.ts';
import { ProxyBackend } from '../server/proxy-backend.ts';
import { startCompanionServer } from '../server/server.ts';

const USAGE = `usage: rbee-web companion (--model <file.gguf> | --proxy <worker-or-hive URL>) [options]

  --model FILE          run this GGUF model with llama.cpp (best of CUDA / Metal / Vulkan / CPU)
  --proxy URL           forward jobs to a rbee worker (e.g. http://localhost:8080) or hive (http://localhost:7835)
  --proxy-token T       bearer token the proxied worker wants
  --port N              port to listen on (default ${COMPANION_PORT}; 0 picks a free one)
  --host H              address to listen on (default 127.0.0.1: loopback only)
  --token T             pairing token (default: a random one, printed below)
  --allow-origin URL    a web app origin allowed to use the companion (repeatable; default ${DEFAULT_APP_ORIGINS.join(', ')})
  --no-default-origins  do not allow the default app origins (only --allow-origin ones; none: no browser at all)
  --threads N           llama.cpp CPU threads (default ${defaultThreads()} here)
  --context N           context length in tokens (default: the model's, at most 4096)
  --gpu auto|cpu|cuda|metal|vulkan   which llama.cpp build to use (default auto)`;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RbeeError('bad-value', `${flag} must be a non-negative integer (got '${value}').`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        proxy: { type: 'string' },
        'proxy-token': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'no-default-origins': { type: 'boolean' },
        threads: { type: 'string' },
        context: { type: 'string' },
        gpu: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`rbee-web companion: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.model === !values.proxy) {
    console.error(`rbee-web companion: give exactly one of --model or --proxy.\n\n${USAGE}`);
    return 2;
  }
  const gpu = (values.gpu ?? 'auto') as GpuChoice;
  if (!['auto', 'cpu', 'cuda', 'metal', 'vulkan'].includes(gpu)) throw new RbeeError('bad-value', `--gpu must be auto, cpu, cuda, metal or vulkan (got '${gpu}').`);
  const port = positiveInt(values.port, '--port') ?? COMPANION_PORT;
  if (port > 65535) throw new RbeeError('bad-value', `--port must be at most 65535 (got ${port}).`);
  const threads = positiveInt(values.threads, '--threads');
  if (threads === 0) throw new RbeeError('bad-value', '--threads must be at least 1.');
  const host = values.host ?? '127.0.0.1';
  const extraOrigins = (values['allow-origin'] ?? []).map(normaliseOrigin);
  const origins = [...(values['no-default-origins'] ? [] : DEFAULT_APP_ORIGINS), ...extraOrigins];
  const token = values.token ?? newPairingToken();
  const policy = new AccessPolicy({ token, allowedOrigins: origins, loopbackOnly: isLoopbackHost(host) });

  let backend: CompanionBackend;
  if (values.model) {
    backend = await LlamaBackend.load({ modelPath: values.model, threads, contextSize: positiveInt(values.context, '--context'), gpu });
  } else {
    const proxy = new ProxyBackend({ upstream: values.proxy!, upstreamToken: values['proxy-token'] });
    await proxy.connect();
    backend = proxy;
  }
  const info = await backend.describe();
  let running;
  try {
    running = await startCompanionServer({ backend, policy, host, port });
  } catch (e) {
    await backend.close();
    const code = (e as { code?: string }).code;
    throw new RbeeError('companion', `Cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : e instanceof Error ? e.message : String(e)}.`, {
      hint: code === 'EADDRINUSE' ? 'Another companion may be running already; or pick another port with --port.' : undefined,
      cause: e,
    });
  }
  const appOrigin = extraOrigins[0] ?? DEFAULT_APP_ORIGINS[0];
  const pairing = `${appOrigin}/settings?companion=${encodeURIComponent(running.url)}&token=${encodeURIComponent(token)}`;
  const where = info.mode === 'llama' ? `${info.backend} (llama.cpp, ${info.threads} thread${info.threads === 1 ? '' : 's'}, context ${info.context_size})` : `${info.backend} at ${info.upstream}`;
  console.log(`rbee-web companion: ${info.model} on ${where}`);
  console.log(`listening on ${running.url}`);
  console.log(`pairing token: ${token}`);
  console.log(`pair the app: ${pairing}`);
  console.log(`allowed origins: ${origins.length ? origins.join(' ') : '(none: no web page can use this companion)'}`);
  if (!isLoopbackHost(host)) console.log(`warning: listening on ${host}, reachable from other machines; the pairing token is the only lock.`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  await backend.close();
  return 0;
}
