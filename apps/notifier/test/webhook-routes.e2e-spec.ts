import {
  api,
  closeStackConnections,
  createDrop,
  eventually,
  fund,
  grabVia,
  moveHoldDeadline,
  openDropBody,
  openStackConnections,
  pay,
  StackConnections,
  tokenFor,
  uniqueId,
  WebhookReceiver,
} from '@flashdrop/testing';
import { checkSignature } from '@flashdrop/webhooks';

interface WebhookBody {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  createdAt: string;
}

/**
 * The brands' webhook routes against the running stack (the API writes the endpoints, the
 * stack's notifier delivers), with a real HTTP receiver on loopback.
 */
describe('POST/GET/DELETE /v1/webhooks and their deliveries', () => {
  let c: StackConnections;
  const brand = uniqueId('brand');
  const brandToken = tokenFor('brand', brand);
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    c = await openStackConnections();
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await closeStackConnections(c);
  });

  const rowsOf = async (brandId: string) =>
    (await c.db.query(`SELECT * FROM webhooks.endpoints WHERE brand_id = $1`, [brandId])) as {
      id: string;
      secret_sealed: string;
    }[];

  it('creates a webhook, shows its secret once, seals it at rest, and keeps it to its brand', async () => {
    const created = await api<WebhookBody>('POST', '/v1/webhooks', {
      token: brandToken,
      body: { url: receiver.url, events: ['order.paid', 'drop.sold_out'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^wh_/),
      url: receiver.url,
      events: ['order.paid', 'drop.sold_out'],
      secret: expect.stringMatching(/^whsec_/),
      createdAt: expect.any(String),
    });
    const [row] = await rowsOf(brand);
    expect(row.id).toBe(created.body.id);
    expect(row.secret_sealed).not.toContain(created.body.secret!.slice(6));

    const listed = await api<WebhookBody[]>('GET', '/v1/webhooks', { token: brandToken });
    expect(listed.body).toEqual([{ ...created.body, secret: undefined }].map(stripUndefined));

    // Another brand sees none of it and can delete none of it.
    const other = tokenFor('brand');
    expect((await api<WebhookBody[]>('GET', '/v1/webhooks', { token: other })).body).toEqual([]);
    for (const [method, path] of [
      ['DELETE', `/v1/webhooks/${created.body.id}`],
      ['GET', `/v1/webhooks/${created.body.id}/deliveries`],
    ]) {
      const res = await api<{ error: string }>(method, path, { token: other });
      expect([res.status, res.body.error]).toEqual([404, 'NOT_FOUND']);
    }
    expect(await rowsOf(brand)).toHaveLength(1);

    const deleted = await api('DELETE', `/v1/webhooks/${created.body.id}`, { token: brandToken });
    expect(deleted.status).toBe(204);
    expect(await rowsOf(brand)).toHaveLength(0);
    const again = await api<{ error: string }>('DELETE', `/v1/webhooks/${created.body.id}`, {
      token: brandToken,
    });
    expect(again.status).toBe(404);
  });

  describe('refusals write nothing', () => {
    const refusedBrand = uniqueId('brand');
    const token = tokenFor('brand', refusedBrand);
    const cases: [string, unknown, number, string, string][] = [
      ['not a URL', { url: 'not a url', events: ['order.paid'] }, 400, 'VALIDATION_FAILED', 'url'],
      [
        'ftp',
        { url: 'ftp://127.0.0.1/x', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'credentials',
        { url: 'https://u:p@127.0.0.1/', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'http off loopback',
        { url: 'http://93.184.216.34/x', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'a private address',
        { url: 'https://10.0.0.5/hooks', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'a private network',
        { url: 'https://192.168.10.1/', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'link-local metadata',
        { url: 'http://169.254.169.254/latest', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'IPv6 link-local',
        { url: 'https://[fe80::1]/', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'IPv6 unique-local',
        { url: 'https://[fd12::1]/', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'mapped private IPv4',
        { url: 'https://[::ffff:10.0.0.1]/', events: ['order.paid'] },
        400,
        'VALIDATION_FAILED',
        'url',
      ],
      [
        'an unknown event',
        { url: 'http://127.0.0.1:9/x', events: ['order.shipped'] },
        400,
        'VALIDATION_FAILED',
        'events',
      ],
      [
        'no events',
        { url: 'http://127.0.0.1:9/x', events: [] },
        400,
        'VALIDATION_FAILED',
        'events',
      ],
      [
        'a repeated event',
        { url: 'http://127.0.0.1:9/x', events: ['order.paid', 'order.paid'] },
        400,
        'VALIDATION_FAILED',
        'events',
      ],
      [
        'events not a list',
        { url: 'http://127.0.0.1:9/x', events: 'order.paid' },
        400,
        'VALIDATION_FAILED',
        'events',
      ],
      [
        'an unknown field',
        { url: 'http://127.0.0.1:9/x', events: ['order.paid'], secret: 'mine' },
        400,
        'VALIDATION_FAILED',
        'secret',
      ],
    ];
    it.each(cases)('%s', async (_, body, status, code, field) => {
      const res = await api<{ error: string; details?: { field: string }[] }>(
        'POST',
        '/v1/webhooks',
        {
          token,
          body,
        },
      );
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(code);
      if (field) expect(res.body.details?.map((d) => d.field)).toContain(field);
      expect(await rowsOf(refusedBrand)).toEqual([]);
    });

    it('a fan or an operator may not register one (403), nor anyone without a token (401)', async () => {
      const body = { url: receiver.url, events: ['order.paid'] };
      for (const [t, status] of [
        [tokenFor('fan', refusedBrand), 403],
        [tokenFor('operator', refusedBrand), 403],
        [undefined, 401],
      ] as const) {
        expect((await api('POST', '/v1/webhooks', { token: t, body })).status).toBe(status);
      }
      expect(await rowsOf(refusedBrand)).toEqual([]);
    });
  });

  it('delivers signed order.paid, order.cancelled, order.expired and drop.sold_out, and lists the attempts', async () => {
    const created = await api<WebhookBody>('POST', '/v1/webhooks', {
      token: brandToken,
      body: {
        url: receiver.url,
        events: ['order.paid', 'order.cancelled', 'order.expired', 'drop.sold_out'],
      },
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret!;
    const drop = await createDrop(openDropBody({ quantity: 3, priceMinor: 700 }), brandToken);
    const fans = [uniqueId('fan'), uniqueId('fan'), uniqueId('fan')];
    const orders: string[] = [];
    for (const fan of fans) {
      const grabbed = await grabVia(drop.id, tokenFor('fan', fan));
      expect(grabbed.status).toBe(201);
      orders.push(grabbed.body.id);
    }
    // Sold out now; then one paid, one cancelled, one expired.
    await eventually(async () => receiver.accepted.size >= 1, 15_000);
    await fund([fans[0]], 10_000);
    expect((await pay(orders[0], fans[0])).status).toBe(200);
    expect(
      (await api('POST', `/v1/orders/${orders[1]}/cancel`, { token: tokenFor('fan', fans[1]) }))
        .status,
    ).toBe(200);
    await moveHoldDeadline(c.redis, orders[2], Date.now() - 1000);

    const arrived = await eventually(async () => receiver.accepted.size >= 4, 30_000, 100);
    expect(arrived).toBe(true);
    const byType = new Map([...receiver.accepted.values()].map((d) => [d.json.type, d]));
    expect([...byType.keys()].sort()).toEqual([
      'drop.sold_out',
      'order.cancelled',
      'order.expired',
      'order.paid',
    ]);
    for (const d of receiver.received) {
      expect(checkSignature(d.signature, secret, d.body)).toBe('ok');
      expect(checkSignature(d.signature, 'whsec_wrong', d.body)).toBe('mismatch');
    }
    expect(byType.get('order.paid')!.json.data).toMatchObject({
      id: orders[0],
      dropId: drop.id,
      fanId: fans[0],
      status: 'paid',
      amountMinor: 700,
      currency: 'CNY',
      paidAt: expect.any(String),
    });
    expect(byType.get('order.cancelled')!.json.data).toMatchObject({
      id: orders[1],
      status: 'cancelled',
    });
    expect(byType.get('order.expired')!.json.data).toMatchObject({
      id: orders[2],
      status: 'expired',
    });
    expect(byType.get('drop.sold_out')!.json.data).toMatchObject({
      id: drop.id,
      brandId: brand,
      phase: 'sold_out',
      quantity: 3,
    });
    // seq orders one drop's events as they happened: sold out before the payment, and so on.
    const seq = (type: string) => byType.get(type)!.json.seq;
    expect(seq('drop.sold_out')).toBeLessThan(seq('order.paid'));
    expect(seq('order.paid')).toBeLessThan(seq('order.cancelled'));
    expect(seq('order.cancelled')).toBeLessThan(seq('order.expired'));

    const deliveries = await api<{
      items: { id: string; type: string; status: string; attempts: { statusCode?: number }[] }[];
    }>('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: brandToken });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items.map((d) => d.type).sort()).toEqual([...byType.keys()].sort());
    for (const d of deliveries.body.items) {
      expect(d.status).toBe('delivered');
      expect(d.attempts[0].statusCode).toBe(200);
    }
    const backlog = await api<{ brandId: string; pending: number; delivered: number }[]>(
      'GET',
      '/v1/ops/webhooks',
      { token: tokenFor('operator') },
    );
    expect(backlog.body.find((b) => b.brandId === brand)).toMatchObject({
      pending: 0,
      delivered: 4,
    });
  }, 90_000);
});

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
