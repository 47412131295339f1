import { WalletPatterns } from '@flashdrop/contracts';
import {
  closeStackConnections,
  openStackConnections,
  portOpen,
  ServiceProcess,
  slotPort,
  testConfig,
  uniqueId,
} from '@flashdrop/testing';
import type { RedisClient } from '@flashdrop/persistence';
import { signPacket, WalletClient } from '@flashdrop/wallet-client';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';

/**
 * The wallet's TCP transport: on loopback by default; bound anywhere else it takes only messages
 * signed with WALLET_SECRET. A wallet process of this test's own listens on every interface with
 * a secret; clients with no secret, a wrong one, or a stale signature are refused, and nothing
 * they asked for is written.
 */
describe('the wallet service beyond loopback takes signed messages only', () => {
  const secret = 'wallet-test-secret-of-32-bytes!!';
  const port = slotPort(4329);
  const wallet = new ServiceProcess('wallet', {
    BIND_HOST: '0.0.0.0',
    WALLET_PORT: String(port),
    WALLET_SECRET: secret,
  });
  const clients: WalletClient[] = [];
  const client = (withSecret?: string) => {
    const c = new WalletClient({
      host: '127.0.0.1',
      port,
      timeoutMs: 5000,
      ...(withSecret ? { secret: withSecret } : {}),
    });
    clients.push(c);
    return c;
  };
  let redis: RedisClient;
  let db: DataSource;

  beforeAll(async () => {
    ({ redis, db } = await openStackConnections());
    wallet.start();
    for (let i = 0; i < 600 && !(await portOpen(port)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.onApplicationShutdown()));
    await wallet.stop();
    await closeStackConnections({ redis, db });
  }, 30_000);

  const creditsOf = async (fanId: string) =>
    Number(
      (
        (await db.query(
          `SELECT count(*) AS n FROM wallet.transfers WHERE kind = 'credit' AND reference LIKE $1`,
          [`${fanId}%`],
        )) as { n: string }[]
      )[0].n,
    );

  it('a signed client credits and reads as usual', async () => {
    const fanId = uniqueId('fan');
    const signed = client(secret);
    const reply = await signed.credit({
      fanId,
      amountMinor: 500,
      currency: 'CNY',
      reference: `${fanId}-1`,
    });
    expect(reply).toMatchObject({ fanId, balanceMinor: 500 });
    expect(await signed.balance({ fanId, currency: 'CNY' })).toMatchObject({ balanceMinor: 500 });
  });

  it.each([
    ['no secret', undefined],
    ['another secret', 'another-secret-of-thirty-two-byte'],
  ])('a client with %s is refused, and nothing is credited', async (_what, other) => {
    const fanId = uniqueId('fan');
    await expect(
      client(other).credit({ fanId, amountMinor: 500, currency: 'CNY', reference: `${fanId}-1` }),
    ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await creditsOf(fanId)).toBe(0);
    expect(await client(secret).balance({ fanId, currency: 'CNY' })).toMatchObject({
      balanceMinor: 0,
    });
  });

  it('a signature older than a minute is refused (a replay)', async () => {
    const fanId = uniqueId('fan');
    const stale = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: {
        host: '127.0.0.1',
        port,
        serializer: {
          serialize: (packet: { pattern: unknown; data?: unknown; id?: string }) =>
            signPacket(secret, packet, Date.now() - 10 * 60_000),
        },
      },
    });
    try {
      await expect(
        firstValueFrom(
          stale.send(WalletPatterns.credit, {
            fanId,
            amountMinor: 500,
            currency: 'CNY',
            reference: `${fanId}-1`,
          }),
        ),
      ).rejects.toMatchObject({ error: 'UNAUTHENTICATED' });
    } finally {
      await stale.close();
    }
    expect(await creditsOf(fanId)).toBe(0);
  });

  it("the stack's own wallet (default BIND_HOST) is not reachable on another interface", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    // A machine with loopback only has nothing else to reach the wallet by.
    if (!external) return;
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = connect(testConfig().WALLET_PORT, external);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect(reachable).toBe(false);
  });
});
