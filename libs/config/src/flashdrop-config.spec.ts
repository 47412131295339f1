import { ConfigError, FlashdropConfig, loadConfig } from './flashdrop-config';

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

  it('parses numbers from the environment', () => {
    expect(loadConfig(FlashdropConfig, { API_PORT: '4000' }).API_PORT).toBe(4000);
  });

  it.each([
    ['API_PORT', 'abc'],
    ['API_PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', 'redis://127.0.0.1:7000'],
    ['REDIS_CLUSTER_NODES', '127.0.0.1:7000,'],
    ['BIND_HOST', 'everywhere'],
    ['KAFKA_PARTITIONS', '0'],
    ['KAFKA_REPLICATION_FACTOR', 'three'],
    ['KAFKA_BROKERS', 'nohost'],
    ['JWT_SECRET', 'short'],
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
