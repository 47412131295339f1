import { CuttingProxies, CuttingProxy } from './cutting-proxy';
import { ServiceProcess } from './processes';
import { testConfig } from './test-env';

/**
 * An API process of the test's own beside the test stack, on the stack's Redis, whose Redis
 * connections go through CuttingProxies (so the test can lose a command or its reply). On one
 * Redis: one proxy on `proxyPort`. On a Redis Cluster (npm run test:cluster): a proxy per node
 * on ports the kernel picks, the process seeded with the proxies and told to reach each node's
 * announced address through its proxy (REDIS_CLUSTER_NAT_MAP), so every command it sends, on
 * whichever node, passes a proxy.
 */
export class ApiBehindProxy {
  readonly proxy: CuttingProxies;
  readonly baseUrl: string;
  private service?: ServiceProcess;

  constructor(
    proxyPort: number,
    private readonly apiPort: number,
    private readonly env: Record<string, string> = {},
  ) {
    const nodes = testConfig().redisClusterNodes;
    if (nodes) {
      this.proxy = new CuttingProxies(nodes.map((node) => new CuttingProxy(0, node)));
    } else {
      const redisUrl = new URL(testConfig().REDIS_URL);
      const upstream = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };
      this.proxy = new CuttingProxies([new CuttingProxy(proxyPort, upstream)]);
    }
    this.baseUrl = `http://127.0.0.1:${apiPort}`;
  }

  /** The API process (after `start`). */
  get process(): ServiceProcess {
    if (!this.service) throw new Error('ApiBehindProxy not started');
    return this.service;
  }

  async start(): Promise<void> {
    await this.proxy.start();
    this.service = new ServiceProcess('api', {
      ...this.redisEnv(),
      API_PORT: String(this.apiPort),
      ...this.env,
    });
    this.service.start();
    await this.service.waitForHttp(`${this.baseUrl}/health/live`);
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    await this.proxy.stop();
  }

  /** Where the process finds Redis: through the proxies (known once they listen). */
  private redisEnv(): Record<string, string> {
    const proxies = this.proxy.proxies;
    if (!testConfig().redisClusterNodes) {
      const redisUrl = new URL(testConfig().REDIS_URL);
      return { REDIS_URL: `redis://127.0.0.1:${proxies[0].port}${redisUrl.pathname}` };
    }
    const at = (host: string, port: number) => `${host}:${port}`;
    return {
      REDIS_CLUSTER_NODES: proxies.map((p) => at('127.0.0.1', p.port)).join(','),
      // The cluster's nodes announce the addresses the seed list names (infra/redis-cluster.sh).
      REDIS_CLUSTER_NAT_MAP: proxies
        .map((p) => `${at(p.upstream.host, p.upstream.port)}=${at('127.0.0.1', p.port)}`)
        .join(','),
    };
  }
}
