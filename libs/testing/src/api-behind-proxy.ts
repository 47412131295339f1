import { CuttingProxy } from './cutting-proxy';
import { ServiceProcess } from './processes';
import { testConfig } from './test-env';

/**
 * An API process of the test's own beside the test stack, whose Redis connection goes through
 * a CuttingProxy (so the test can lose a command or its reply), on ports taken from the slot.
 */
export class ApiBehindProxy {
  readonly proxy: CuttingProxy;
  readonly process: ServiceProcess;
  readonly baseUrl: string;

  constructor(proxyPort: number, apiPort: number, env: Record<string, string> = {}) {
    const redisUrl = new URL(testConfig().REDIS_URL);
    this.proxy = new CuttingProxy(proxyPort, {
      host: redisUrl.hostname,
      port: Number(redisUrl.port || 6379),
    });
    this.baseUrl = `http://127.0.0.1:${apiPort}`;
    this.process = new ServiceProcess('api', {
      REDIS_URL: `redis://127.0.0.1:${proxyPort}${redisUrl.pathname}`,
      API_PORT: String(apiPort),
      ...env,
    });
  }

  async start(): Promise<void> {
    await this.proxy.start();
    this.process.start();
    await this.process.waitForHttp(`${this.baseUrl}/health/live`);
  }

  async stop(): Promise<void> {
    await this.process.stop();
    await this.proxy.stop();
  }
}
