import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../fakes/wait-for';

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `src/main.ts` (compiled on the fly) with only `env` (and PATH) on a
 * free port, its output piped: the child and the URL it will listen on.
 */
export async function spawnService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * The service in a process of its own (TypeScript compiled on the fly), so
 * that a test can kill it with SIGKILL and start it again.
 */
export class AppProcess {
  private exited: Promise<number | null>;
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(env: Record<string, string>): Promise<AppProcess> {
    const { child, url } = await spawnService(env);
    const app = new AppProcess(child, url);
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`exited early:\n${app.output}`);
        const res = await fetch(`${app.url}/health/ready`).catch(() => null);
        return res?.status === 200;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the app process did not become ready',
      },
    );
    return app;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}
