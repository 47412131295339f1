import {
  api,
  eventually,
  portOpen,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { readFileSync } from 'node:fs';

/**
 * The wallet is its own service: when it dies (kill -9), wallet routes answer a clear 503
 * SERVICE_UNAVAILABLE quickly while everything else keeps answering; when it comes back, the
 * API reconnects by itself. An API and a wallet of the test's own, so killing disturbs nothing.
 */
describe('wallet outage', () => {
  const walletPort = slotPort(3396);
  const apiPort = slotPort(3395);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    WALLET_PORT: String(walletPort),
    API_PORT: String(apiPort),
    WALLET_TIMEOUT_MS: '2000',
  };
  const wallet = new ServiceProcess('wallet', env);
  const apiService = new ServiceProcess('api', env);

  beforeAll(async () => {
    wallet.start();
    expect(await eventually(() => portOpen(walletPort), 20_000)).toBe(true);
    apiService.start();
    await apiService.waitForHttp(`${baseUrl}/health/live`);
  }, 60_000);

  afterAll(async () => {
    await apiService.stop();
    await wallet.stop();
  });

  it('answers 503 on wallet routes while the wallet is down, and recovers after', async () => {
    const fanId = uniqueId('fan');
    const token = tokenFor('fan', fanId);
    const operator = tokenFor('operator');
    const credit = (reference: string) =>
      api('POST', `/v1/wallets/${fanId}/credits`, {
        token: operator,
        body: { amountMinor: 100, reference },
        baseUrl,
      });
    expect((await credit(uniqueId('ref'))).status).toBe(201);

    wallet.kill9();
    expect(await eventually(async () => !(await portOpen(walletPort)), 10_000)).toBe(true);
    const down = await api('GET', '/v1/wallet', { token, baseUrl });
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ error: 'SERVICE_UNAVAILABLE', message: expect.any(String) });
    const lost = uniqueId('ref');
    expect((await credit(lost)).status).toBe(503);
    // Quickly: the API answered from the refused connection, not by waiting out its timeout
    // (read off its log rather than a clock, which a loaded box makes useless here).
    const log = readFileSync(apiService.logFile, 'utf8');
    expect(log).toContain('wallet call wallet.balance failed');
    expect(log).toContain('wallet call wallet.credit failed');
    expect(log).not.toContain('wallet did not answer');
    // The rest of the API does not depend on the wallet.
    expect((await api('GET', '/health/live', { baseUrl })).status).toBe(200);

    wallet.start();
    expect(
      await eventually(
        async () => (await api('GET', '/v1/wallet', { token, baseUrl })).status === 200,
        20_000,
        200,
      ),
    ).toBe(true);
    const after = await api<{ balanceMinor: number }>('GET', '/v1/wallet', { token, baseUrl });
    expect(after.body.balanceMinor).toBe(100);
  }, 60_000);
});
