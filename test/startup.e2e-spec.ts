import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './support/app-process';

const ROOT = join(__dirname, '..');
const START_TIMEOUT_MS = 45_000;
/** A line of a V8 stack trace. */
const STACK_FRAME = /^\s+at\s/m;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether a TCP connection to `port` ever succeeded while the process ran. */
  listened: boolean;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Runs `src/main.ts` with exactly `env` (plus PATH) until it exits, probing
 * `probePort` meanwhile. Kills it and fails if it is still running after
 * START_TIMEOUT_MS: a process that should refuse to start must exit.
 */
async function runMain(
  env: Record<string, string>,
  probePort?: number,
): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

  let running = true;
  let listened = false;
  const probing = (async () => {
    while (running && probePort !== undefined) {
      if (await accepts(probePort)) listened = true;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) =>
        child.once('close', (code, signal) => resolve({ code, signal })),
    ),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  running = false;
  await probing;
  if (exit === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(
      `src/main.ts was still running after ${START_TIMEOUT_MS} ms instead of refusing to start\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
  return { ...exit, stdout, stderr, listened };
}

describe('start-up with a bad environment', () => {
  jest.setTimeout(60_000);

  it('refuses to start in production without WHATSAPP_APP_SECRET, naming it', async () => {
    const port = await freePort();

    const run = await runMain(
      {
        NODE_ENV: 'production',
        DATA_DIR: 'memory://',
        PORT: String(port),
        WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
        WHATSAPP_ACCESS_TOKEN: 'test-access-token',
        WHATSAPP_WEBHOOK_VERIFY_TOKEN: 'test-verify-token',
        ADMIN_API_KEY: 'test-admin-key-0123456789',
      },
      port,
    );

    expect(run.signal).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toContain('WHATSAPP_APP_SECRET');
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.listened).toBe(false);
  });

  it('lists every bad variable in one message, without a stack trace', async () => {
    const run = await runMain({
      DATA_DIR: 'memory://',
      PORT: 'abc',
      MAX_MESSAGE_LENGTH: '99999',
      NODE_ENV: 'staging',
      ADMIN_API_KEY: 'test-admin-key-0123456789',
    });

    expect(run.signal).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).not.toMatch(STACK_FRAME);
    // One message: a single heading, then one line per variable.
    const headings = run.stderr.match(/Invalid environment configuration/g);
    expect(headings).toHaveLength(1);
    const message = run.stderr.slice(
      run.stderr.indexOf('Invalid environment configuration'),
    );
    for (const name of ['PORT', 'MAX_MESSAGE_LENGTH', 'NODE_ENV']) {
      expect(message).toMatch(new RegExp(`^\\s+- ${name}:`, 'm'));
    }
    expect(run.stdout).not.toMatch(/successfully started|listening/i);
  });

  it('names a bad variable without echoing its value, which may hold a password', async () => {
    const run = await runMain({
      DATA_DIR: 'memory://',
      NODE_ENV: 'test',
      REDIS_URL: 'http://:hunter2-redis-password@cache.internal:6379',
    });

    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toMatch(/^\s+- REDIS_URL:/m);
    expect(run.stderr).not.toContain('hunter2');
    expect(run.stdout).not.toContain('hunter2');
  });

  it('names DATABASE_URL, without its password, when the database server cannot be reached', async () => {
    // Nothing listens there: connections are refused.
    const dbPort = await freePort();
    const run = await runMain({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: String(await freePort()),
      ADMIN_API_KEY: 'test-admin-key-0123456789',
      DATABASE_URL: `postgres://clariops:hunter2-db-password@127.0.0.1:${dbPort}/clariops`,
    });

    expect(run.signal).toBeNull();
    expect(run.code).toBe(1);
    const fatal = run.stderr
      .split('\n')
      .find((line) => line.startsWith('ClariOps failed to start'));
    expect(fatal).toBe(
      `ClariOps failed to start: the PostgreSQL database of DATABASE_URL (postgres://clariops:****@127.0.0.1:${dbPort}/clariops) could not be opened: connect ECONNREFUSED 127.0.0.1:${dbPort}`,
    );
    expect(run.stderr).not.toContain('hunter2');
    expect(run.stdout).not.toContain('hunter2');
  });
});
