import { WalletPatterns } from '@flashdrop/contracts';
import { testConfig, testDatabase, uniqueId } from '@flashdrop/testing';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';

/**
 * The wallet's messages are checked like HTTP bodies: a field is known only if it is an own
 * field the pattern declares, so a name every object inherits (`toString`, `constructor`, ...)
 * beside the real fields is refused, and nothing moves. Sent raw to the test stack's wallet.
 */
describe("the wallet's hand-checked messages refuse inherited names", () => {
  let client: ClientProxy;
  let db: DataSource;

  beforeAll(async () => {
    const config = testConfig();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: config.WALLET_HOST, port: config.WALLET_PORT },
    });
    db = await testDatabase();
  });
  afterAll(async () => {
    await client.close();
    await db.destroy();
  });

  const transfersOf = async (fanId: string) =>
    Number(
      (
        (await db.query(
          `SELECT count(*) AS n FROM wallet.transfers t JOIN wallet.entries e ON e.transfer_id = t.id
           JOIN wallet.accounts a ON a.id = e.account_id WHERE a.owner_id = $1`,
          [fanId],
        )) as { n: string }[]
      )[0].n,
    );

  it.each(['toString', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'a credit with "%s" beside its fields: VALIDATION_FAILED, nothing credited',
    async (name) => {
      const fanId = uniqueId('fan');
      const message = {
        fanId,
        amountMinor: 500,
        currency: 'CNY',
        reference: uniqueId('ref'),
        [name]: 1,
      };
      await expect(
        firstValueFrom(client.send(WalletPatterns.credit, message)),
      ).rejects.toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: name }] });
      expect(await transfersOf(fanId)).toBe(0);
    },
  );

  it('a debit with "constructor" beside its fields: VALIDATION_FAILED, nothing debited', async () => {
    const fanId = uniqueId('fan');
    const debit = {
      orderId: `${uniqueId('d')}-0001`,
      attempt: 1,
      fanId,
      dropId: uniqueId('d'),
      brandId: uniqueId('brand'),
      amountMinor: 100,
      currency: 'CNY',
      constructor: 1,
    };
    await expect(firstValueFrom(client.send(WalletPatterns.debit, debit))).rejects.toMatchObject({
      error: 'VALIDATION_FAILED',
    });
    expect(await transfersOf(fanId)).toBe(0);
  });
});
