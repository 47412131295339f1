import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { api, eventually, ServiceProcess, slotPort } from '@flashdrop/testing';

/**
 * One log format: every line a service writes is a JSON object of its log, whoever wrote it:
 * Nest, TypeORM, ioredis, kafkajs, Node's own warnings, or a start that fails.
 */
describe('service logs are JSON lines, whoever writes them', () => {
  const port = slotPort(3389);
  const unreachable = {
    REDIS_URL: `redis://127.0.0.1:${slotPort(6389)}`,
    KAFKA_BROKERS: `127.0.0.1:${slotPort(9179)}`,
  };

  function linesOf(logFile: string): Record<string, unknown>[] {
    const text = readFileSync(logFile, 'utf8');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line in ${logFile}: ${line}`);
        }
      });
  }

  /** Writes raw bytes to the service and resolves with what it answered before closing. */
  function sendRaw(target: number, bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(target, '127.0.0.1', () => socket.write(bytes));
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('while Redis and Kafka are away (ioredis, kafkajs, Node warnings)', async () => {
    const logFile = `/tmp/flashdrop-json-logs-${process.pid}-up.log`;
    rmSync(logFile, { force: true });
    const service = new ServiceProcess(
      'api',
      { ...unreachable, API_PORT: String(port), LOG_LEVEL: 'info' },
      logFile,
    );
    service.start();
    try {
      await service.waitForHttp(`http://127.0.0.1:${port}/health/live`);
      const ready = await api('GET', '/health/ready', { baseUrl: `http://127.0.0.1:${port}` });
      expect(ready.status).toBe(503);
      // What Node refuses before routing (here a head it cannot parse; in CI once a 408 from its
      // connection check) is answered by Fastify alone: the log must still say it happened.
      expect(await sendRaw(port, 'GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n')).toMatch(
        /^HTTP\/1\.1 400/,
      );
      expect(
        await eventually(async () =>
          linesOf(logFile).some(
            (l) => l.msg === 'client error before routing' && String(l.code).startsWith('HPE_'),
          ),
        ),
      ).toBe(true);
      // The clients keep reporting while they reconnect.
      expect(
        await eventually(async () => {
          const lines = linesOf(logFile);
          return lines.some((l) => String(l.context).startsWith('Redis'));
        }),
      ).toBe(true);
    } finally {
      await service.stop();
    }
    const lines = linesOf(logFile);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines)
      expect(line).toMatchObject({ service: 'api', level: expect.any(Number) });
    expect(lines.some((l) => l.context === 'Kafka' || String(l.msg).includes('kafka'))).toBe(true);
  }, 60_000);

  it('when it cannot start (TypeORM retrying, then the failure itself)', async () => {
    const logFile = `/tmp/flashdrop-json-logs-${process.pid}-down.log`;
    rmSync(logFile, { force: true });
    const service = new ServiceProcess(
      'api',
      {
        ...unreachable,
        API_PORT: String(port),
        DATABASE_URL: 'postgres://flashdrop:flashdrop@127.0.0.1:1/flashdrop',
      },
      logFile,
    );
    service.start();
    const exited = await eventually(
      async () => linesOf(logFile).some((l) => l.level === 60),
      30_000,
      200,
    );
    await service.stop();
    expect(exited).toBe(true);
    const lines = linesOf(logFile);
    for (const line of lines) expect(line).toMatchObject({ service: 'api' });
    expect(lines.some((l) => String(l.msg).includes('could not start'))).toBe(true);
  }, 60_000);
});
