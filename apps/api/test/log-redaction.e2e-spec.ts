import {
  api,
  createDrop,
  dropBody,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { readFileSync } from 'node:fs';

/**
 * No log line of the API holds a token. An API process of this test's own logs at debug (one
 * line per request) while tokens travel in the Authorization header and in `?access_token=`
 * (the live streams' way, since a browser's EventSource cannot set headers), on answered,
 * refused and unknown routes; then its whole log is searched for them.
 */
describe('tokens never reach the logs', () => {
  const apiPort = slotPort(4338);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const apiProcess = new ServiceProcess(
    'api',
    { API_PORT: String(apiPort), LOG_LEVEL: 'debug' },
    `/tmp/flashdrop-api-logs-${process.pid}.log`,
  );

  beforeAll(async () => {
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
  }, 60_000);
  afterAll(() => apiProcess.stop(), 30_000);

  it('in headers or in query strings, whatever the answer', async () => {
    const operator = tokenFor('operator', uniqueId('op'));
    const fan = tokenFor('fan', uniqueId('fan'));
    const drop = await createDrop(dropBody());
    const answers = await Promise.all([
      api('GET', `/v1/drops/${drop.id}/stats?access_token=${operator}`, { baseUrl }),
      api('GET', `/v1/drops/${drop.id}/stats`, { token: operator, baseUrl }),
      api('GET', `/v1/drops/${drop.id}/stats?access_token=${fan}`, { baseUrl }),
      api('GET', `/ops?access_token=${operator}&drop=${drop.id}`, { baseUrl }),
      api('GET', `/v1/nothing-here?access_token=${operator}`, { baseUrl }),
      api('GET', `/v1/orders?access_token=${fan}`, { token: fan, baseUrl }),
      api('POST', `/v1/drops/${drop.id}/purchases?access_token=${fan}`, { token: fan, baseUrl }),
    ]);
    // The stats route takes its token in the header only: a query token there is refused (401),
    // and still never logged.
    expect(answers.map((a) => a.status)).toEqual([401, 200, 401, 200, 404, 200, 409]);
    // The live stream: read its first frame, then hang up.
    const live = await fetch(`${baseUrl}/v1/drops/${drop.id}/live?access_token=${operator}`);
    const reader = live.body!.getReader();
    await reader.read();
    await reader.cancel();

    await new Promise((r) => setTimeout(r, 500));
    const log = readFileSync(apiProcess.logFile, 'utf8');
    expect(log).toContain('request completed');
    expect(log).toContain('access_token=[redacted]');
    for (const token of [operator, fan]) {
      expect(log).not.toContain(token);
      // Nor its signature alone (the part after the last dot), wherever a line might cut it.
      expect(log).not.toContain(token.slice(token.lastIndexOf('.') + 1));
    }
  });
});
