import {
  ConfigError,
  DEVELOPMENT_JWT_SECRET,
  FlashdropConfig,
  isLoopbackHost,
  loadConfig,
} from './flashdrop-config';

describe('loadConfig', () => {
  it('fills defaults', () => {
    const config = loadConfig(FlashdropConfig, {});
    expect(config.API_PORT).toBe(3000);
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
  });

  it('chooses one Redis or a Redis Cluster by REDIS_CLUSTER_NODES alone', () => {
    expect(loadConfig(FlashdropConfig, {}).redisClusterNodes).toBeUndefined();
    expect(
      loadConfig(FlashdropConfig, { REDIS_CLUSTER_NODES: '127.0.0.1:7000,redis-2:7001' })
        .redisClusterNodes,
    ).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-2', port: 7001 },
    ]);
  });

  it('reads where each cluster node is reached (REDIS_CLUSTER_NAT_MAP), none by default', () => {
    expect(loadConfig(FlashdropConfig, {}).redisClusterNatMap).toBeUndefined();
    expect(
      loadConfig(FlashdropConfig, {
        REDIS_CLUSTER_NAT_MAP: '10.0.0.5:7000=127.0.0.1:17000,redis-2:7001=proxy:17001',
      }).redisClusterNatMap,
    ).toEqual({
      '10.0.0.5:7000': { host: '127.0.0.1', port: 17000 },
      'redis-2:7001': { host: 'proxy', port: 17001 },
    });
  });

  it('parses numbers from the environment', () => {
    expect(loadConfig(FlashdropConfig, { API_PORT: '4000' }).API_PORT).toBe(4000);
  });

  it.each([
    ['API_PORT', 'abc'],
    ['API_PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', 'redis://127.0.0.1:7000'],
    ['REDIS_CLUSTER_NODES', '127.0.0.1:7000,'],
    ['REDIS_CLUSTER_NAT_MAP', '127.0.0.1:7000'],
    ['REDIS_CLUSTER_NAT_MAP', '127.0.0.1:7000=127.0.0.1:17000,'],
    ['BIND_HOST', 'everywhere'],
    ['KAFKA_PARTITIONS', '0'],
    ['KAFKA_REPLICATION_FACTOR', 'three'],
    ['KAFKA_BROKERS', 'nohost'],
    ['JWT_SECRET', 'short'],
    ['REDIS_COMMAND_TIMEOUT_MS', '50'],
    // Not longer than REDIS_WAIT_TIMEOUT_MS (500 by default): commands queued behind a WAIT.
    ['REDIS_COMMAND_TIMEOUT_MS', '500'],
    ['POSTGRES_QUERY_TIMEOUT_MS', '50'],
    ['POSTGRES_QUERY_TIMEOUT_MS', '5s'],
  ])('refuses %s=%s and names it', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig(FlashdropConfig, { [name]: value });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain(name);
  });
});

describe('secrets', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      loadConfig(FlashdropConfig, env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    }
    return undefined;
  };
  const strong = 's'.repeat(32);

  it('refuses the development JWT secret with NODE_ENV=production, naming the variable', () => {
    expect(refusal({ NODE_ENV: 'production' })).toMatch(/^invalid configuration: JWT_SECRET=/);
    expect(refusal({ NODE_ENV: 'production', JWT_SECRET: DEVELOPMENT_JWT_SECRET })).toContain(
      'JWT_SECRET',
    );
  });

  it('refuses a production JWT secret shorter than 32 bytes, and never prints it', () => {
    const message = refusal({
      NODE_ENV: 'production',
      JWT_SECRET: 'a-31-byte-secret-xxxxxxxxxxxxxx',
    });
    expect(message).toContain('JWT_SECRET=<31 bytes>');
    expect(message).not.toContain('a-31-byte-secret');
    // 32 bytes of UTF-8 (16 two-byte characters) are enough: bytes, not characters.
    expect(refusal({ NODE_ENV: 'production', JWT_SECRET: 'é'.repeat(16) })).toBeUndefined();
  });

  it('takes the development secret outside production', () => {
    expect(refusal({ NODE_ENV: 'development' })).toBeUndefined();
    expect(refusal({ NODE_ENV: 'test' })).toBeUndefined();
  });

  it('needs WALLET_SECRET when the wallet listens beyond loopback', () => {
    expect(refusal({ WALLET_HOST: '0.0.0.0' })).toContain('WALLET_SECRET=<0 bytes>');
    expect(refusal({ WALLET_HOST: 'wallet.internal', WALLET_SECRET: 'short' })).toContain(
      'WALLET_SECRET',
    );
    expect(refusal({ WALLET_HOST: '10.0.0.5', WALLET_SECRET: strong })).toBeUndefined();
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', '::1']) {
      expect(refusal({ WALLET_HOST: host })).toBeUndefined();
    }
    expect(refusal({ WALLET_SECRET: 'short-but-given' })).toContain('WALLET_SECRET');
    // The wallet listens on BIND_HOST: every interface is beyond loopback too.
    expect(refusal({ BIND_HOST: '0.0.0.0' })).toContain('WALLET_SECRET=<0 bytes>');
    expect(refusal({ BIND_HOST: '0.0.0.0', WALLET_SECRET: strong })).toBeUndefined();
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', 'localhost', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '127.0.0.1.example.com', ''].some(isLoopbackHost)).toBe(false);
  });
});
