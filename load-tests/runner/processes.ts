import { ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

/** A server the runner starts as a process of its own on a loopback port, and stops. */
abstract class OwnProcess {
  protected child?: ChildProcess;

  constructor(
    readonly port: number,
    protected readonly env: Record<string, string>,
    protected readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }
}

/**
 * A peer server of load-tests/peers run as its own process (so it never shares an event loop
 * with the load generator), started through ts-node like the runner itself.
 */
export class PeerProcess extends OwnProcess {
  constructor(
    readonly name: 'floor' | 'naive' | 'hello',
    port: number,
    env: Record<string, string>,
    logFile: string,
  ) {
    super(port, env, logFile);
  }

  async start(healthPath = '/health'): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [
        // BENCH_PROFILE=1: the floor can be profiled like the services (SIGWINCH, bench.ts).
        ...(process.env.BENCH_PROFILE === '1' && this.name === 'floor'
          ? ['-r', join(REPO_ROOT, 'load-tests/profile/cpu-profile-preload.js')]
          : []),
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        join(REPO_ROOT, `load-tests/peers/${this.name}-server.ts`),
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env, PORT: String(this.port) },
        stdio: ['ignore', out, out],
      },
    );
    // ts-node compiles the peer's whole import graph at start; three peers start at once, and on
    // two shared cores under load that took more than 30 s. A start, not a measurement.
    await untilUp(this.child, `${this.name} peer`, `${this.origin}${healthPath}`, this.logFile);
  }
}

/**
 * One more API process of the bench stack (its env: the bench profile), from the build in dist/,
 * on a port and with settings of its own: the overload step runs the same API with and without
 * its in-flight bound, beside the stack's own API, whose figures it leaves alone.
 */
export class ApiProcess extends OwnProcess {
  async start(): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps/api/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, API_PORT: String(this.port) },
      stdio: ['ignore', out, out],
    });
    await untilUp(this.child, 'API', `${this.origin}/health/live`, this.logFile);
  }
}

/** Waits until `url` answers below 500 (up to 120 s); throws if the process exits first. */
async function untilUp(child: ChildProcess, name: string, url: string, logFile: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (log: ${logFile})`);
    const up = await fetch(url)
      .then((r) => r.status < 500)
      .catch(() => false);
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
