import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClosedCommand, ClosedResult } from '../load-generator';
import type { BenchConfig } from './config';
import { cpuSnapshot, cpuUsage, type CpuUsage } from './cpu';
import { ServerProcess, Worker } from './processes';
import {
  ACCESS_TOKEN,
  API_VERSION,
  APP_SECRET,
  PHONE_NUMBER_ID,
} from './webhook';

/** What every part gets: the knobs, the fakes, the load generator, temp dirs. */
export class BenchContext {
  private readonly dirs: string[] = [];
  private runs = 0;
  readonly runId = Date.now().toString(36);

  constructor(
    readonly config: BenchConfig,
    readonly fakes: Worker,
    readonly fakePorts: { llmPort: number; graphPort: number },
    readonly loadgen: Worker,
  ) {}

  /** A fresh directory on disk (not tmpfs here: /tmp is on the root filesystem). */
  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `clariops-bench-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** A tag that makes wamids unique across every run of this benchmark. */
  tag(): string {
    this.runs += 1;
    return `${this.runId}r${this.runs}x`;
  }

  /** The app's environment: production, file-backed data, fakes for the LLM and Graph. */
  appEnv(overrides: Record<string, string>): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_WEBHOOK_VERIFY_TOKEN: 'bench-verify-token',
      WHATSAPP_API_BASE_URL: `http://127.0.0.1:${this.fakePorts.graphPort}`,
      WHATSAPP_API_VERSION: API_VERSION,
      OPENAI_API_KEY: 'bench-openai-key',
      OPENAI_BASE_URL: `http://127.0.0.1:${this.fakePorts.llmPort}/v1`,
      OPENAI_MODEL: 'bench-model',
      ...overrides,
    };
  }

  async closedLoad(
    targets: ServerProcess[] | string[],
    options: Partial<
      Pick<
        ClosedCommand,
        'warmupMs' | 'durationMs' | 'customerPrefix' | 'customers'
      >
    > = {},
  ): Promise<ClosedResult & { cpu: CpuUsage }> {
    const { config } = this;
    const command: ClosedCommand = {
      cmd: 'closed',
      targets: targets.map((t) => (typeof t === 'string' ? t : t.url)),
      connections: config.connections,
      customers: options.customers ?? config.customers,
      customerPrefix: options.customerPrefix ?? '4470',
      tag: this.tag(),
      warmupMs: options.warmupMs ?? config.warmupSeconds * 1000,
      durationMs: options.durationMs ?? config.seconds * 1000,
    };
    const names: Record<number, string> = {
      [process.pid]: 'orchestrator',
      [this.loadgen.pid]: 'load generator',
      [this.fakes.pid]: 'fake LLM + Graph',
    };
    targets.forEach((t, i) => {
      if (typeof t !== 'string')
        names[t.pid] = targets.length > 1 ? `server #${i + 1}` : 'server';
    });
    const pids = Object.keys(names).map(Number);
    const result = this.loadgen.request<ClosedResult>(
      command,
      'closed-result',
      command.warmupMs + command.durationMs + 120_000,
    );
    // CPU is counted over the measured window only.
    await new Promise((r) => setTimeout(r, command.warmupMs));
    const before = cpuSnapshot(pids);
    const load = await result;
    const cpu = cpuUsage(before, cpuSnapshot(pids), names);
    return { ...load, cpu };
  }

  /**
   * Runs a measurement again (from scratch: `measure` starts its own server)
   * when other processes on the machine used more than BENCH_NOISE_CORES
   * during it, up to BENCH_NOISE_RETRIES times; keeps the quietest attempt.
   */
  async quietly<T extends { load: { cpu: CpuUsage } }>(
    label: string,
    measure: () => Promise<T>,
  ): Promise<T & { attempts: number }> {
    let best: T | null = null;
    let attempts = 0;
    for (;;) {
      attempts++;
      const result = await measure();
      if (!best || result.load.cpu.otherCores < best.load.cpu.otherCores)
        best = result;
      const noisy = result.load.cpu.otherCores > this.config.noiseCores;
      if (!noisy || attempts > this.config.noiseRetries) break;
      log(
        `${label}: other processes used ${result.load.cpu.otherCores} cores during the run; measuring again`,
      );
      await new Promise((r) => setTimeout(r, 5000));
    }
    return { ...best, attempts };
  }

  cleanUp(): string[] {
    if (this.config.keepData) return this.dirs;
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    return [];
  }
}

export function log(message: string) {
  process.stderr.write(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`,
  );
}
