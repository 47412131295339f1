import { createHmac } from 'node:crypto';
import { DEV_WEBHOOK_SECRET_KEY, SecretBox } from './secret-box';
import { checkSignature, signatureHeader } from './signature';
import { UrlPolicy } from './url-policy';
import { deliveryIdOf, seqOfEventId, webhookMappingOf } from './webhook-types';

describe('the delivery signature', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1","type":"order.paid"}';

  it('is t=UNIX_SECONDS,v1=hex HMAC-SHA256 of t + "." + body', () => {
    const header = signatureHeader(secret, body, 1_767_225_600.9);
    const hex = createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex');
    expect(header).toBe(`t=1767225600,v1=${hex}`);
    expect(checkSignature(header, secret, body, { nowSeconds: 1_767_225_610 })).toBe('ok');
  });

  it('refuses another body, another secret, a stale timestamp and a malformed header', () => {
    const header = signatureHeader(secret, body, 1_767_225_600);
    const now = { nowSeconds: 1_767_225_600 };
    expect(checkSignature(header, secret, `${body} `, now)).toBe('mismatch');
    expect(checkSignature(header, 'whsec_other', body, now)).toBe('mismatch');
    expect(checkSignature(header, secret, body, { nowSeconds: 1_767_225_600 + 301 })).toBe('stale');
    for (const bad of [undefined, '', 't=abc,v1=00', 'v1=' + 'a'.repeat(64), 't=1,v1=xyz']) {
      expect(checkSignature(bad, secret, body, now)).toBe('malformed');
    }
  });
});

describe('sealed webhook secrets', () => {
  const box = new SecretBox(DEV_WEBHOOK_SECRET_KEY, 'test');

  it('opens what it sealed, for the same webhook only, and never stores the secret in clear', () => {
    const secret = SecretBox.newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const sealed = box.seal(secret, 'wh_1');
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, 'wh_1')).toBe(secret);
    expect(() => box.open(sealed, 'wh_2')).toThrow();
    expect(() =>
      new SecretBox(Buffer.alloc(32, 7).toString('base64'), 'test').open(sealed, 'wh_1'),
    ).toThrow();
  });

  it('refuses a key of the wrong size, and the development key in production', () => {
    expect(() => new SecretBox(Buffer.alloc(16).toString('base64'), 'test')).toThrow(/32 bytes/);
    expect(() => new SecretBox(DEV_WEBHOOK_SECRET_KEY, 'production')).toThrow(/development key/);
    expect(() => new SecretBox(Buffer.alloc(32, 1).toString('base64'), 'production')).not.toThrow();
  });
});

describe('where a webhook may point', () => {
  const resolveTo =
    (table: Record<string, string[]>) =>
    async (host: string): Promise<string[]> => {
      if (!table[host]) throw new Error('ENOTFOUND');
      return table[host];
    };
  const names = resolveTo({
    'shop.example': ['93.184.216.34'],
    'inside.example': ['10.0.0.7'],
    'mixed.example': ['93.184.216.34', '192.168.0.2'],
    'metadata.example': ['169.254.169.254'],
    localhost: ['127.0.0.1', '::1'],
  });
  const strict = new UrlPolicy({ allowedNetworks: '', production: false }, names);
  const loopbackOk = new UrlPolicy(
    { allowedNetworks: '127.0.0.0/8,::1/128', production: false },
    names,
  );
  const production = new UrlPolicy(
    { allowedNetworks: '127.0.0.0/8,::1/128', production: true },
    names,
  );

  it.each([
    ['https://shop.example/hooks', true],
    ['https://93.184.216.34/hooks', true],
    ['https://inside.example/hooks', false],
    ['https://mixed.example/hooks', false],
    ['https://metadata.example/latest', false],
    ['https://10.1.2.3/', false],
    ['https://172.16.0.1/', false],
    ['https://192.168.1.1/', false],
    ['https://169.254.169.254/', false],
    ['https://100.64.0.1/', false],
    ['https://0.0.0.0/', false],
    ['https://[::1]/', false],
    ['https://[fe80::1]/', false],
    ['https://[fd00::1]/', false],
    ['https://[::ffff:10.0.0.1]/', false],
    ['https://localhost/', false],
    ['https://nowhere.example/', false],
    ['http://shop.example/hooks', false],
    ['ftp://shop.example/', false],
    ['https://user:pw@shop.example/', false],
    ['https://shop.example/#x', false],
    ['not a url', false],
  ])('a strict deployment: %s -> %s', async (url, ok) => {
    expect((await strict.check(url)).ok).toBe(ok);
  });

  it('lets a deployment allow loopback, http to loopback included, but never http in production', async () => {
    expect((await loopbackOk.check('http://127.0.0.1:9000/hook')).ok).toBe(true);
    expect((await loopbackOk.check('http://localhost:9000/hook')).ok).toBe(true);
    expect((await loopbackOk.check('https://localhost/hook')).ok).toBe(true);
    expect((await loopbackOk.check('http://shop.example/hook')).ok).toBe(false);
    expect((await loopbackOk.check('https://10.0.0.1/')).ok).toBe(false);
    expect((await production.check('http://127.0.0.1:9000/hook')).ok).toBe(false);
    expect((await production.check('https://127.0.0.1:9000/hook')).ok).toBe(true);
  });

  it('checks at connect time too: a name that resolves to a refused address now is refused', async () => {
    let answer = ['93.184.216.34'];
    const flipping = new UrlPolicy({ allowedNetworks: '', production: false }, async () => answer);
    expect((await flipping.check('https://rebind.example/')).ok).toBe(true);
    answer = ['127.0.0.1'];
    const looked = await new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>(
      (resolve) =>
        flipping.guardedLookup('rebind.example', { all: true }, (error, address) =>
          resolve({ error, address }),
        ),
    );
    expect(looked.error?.code).toBe('EADDRNOTALLOWED');
    answer = ['93.184.216.34'];
    const ok = await new Promise<unknown>((resolve) =>
      flipping.guardedLookup('rebind.example', {}, (_e, address, family) =>
        resolve([address, family]),
      ),
    );
    expect(ok).toEqual(['93.184.216.34', 4]);
  });
});

describe('published events as webhook events', () => {
  it('maps today’s events and leaves the rest alone', () => {
    const order = { dropId: 'd1', orderId: 'o1', fanId: 'f', quantity: 1, amountMinor: 5 };
    expect(webhookMappingOf('order.paid', order)?.type).toBe('order.paid');
    expect(webhookMappingOf('order.refunded', { ...order, reason: 'r', remaining: 1 })).toEqual({
      type: 'order.refunded',
      subject: { kind: 'order', orderId: 'o1', status: 'refunded' },
    });
    expect(webhookMappingOf('hold.expired', { ...order, remaining: 1 })).toEqual({
      type: 'order.expired',
      subject: { kind: 'order', orderId: 'o1', status: 'expired' },
    });
    expect(webhookMappingOf('hold.cancelled', { ...order, remaining: 1 })?.type).toBe(
      'order.cancelled',
    );
    expect(webhookMappingOf('drop.phase_changed', { dropId: 'd1', phase: 'sold_out' })?.type).toBe(
      'drop.sold_out',
    );
    expect(
      webhookMappingOf('drop.phase_changed', { dropId: 'd1', phase: 'on_sale' }),
    ).toBeUndefined();
    expect(
      webhookMappingOf('grab.accepted', { ...order, expiresAt: 1, remaining: 1 }),
    ).toBeUndefined();
  });

  it('maps a group that ended (group buy) to its webhook event, never a grouped order', () => {
    const group = { dropId: 'd1', groupId: 'g1', size: 3 };
    expect(webhookMappingOf('group.completed', { ...group, members: 3, amountMinor: 9 })).toEqual({
      type: 'group.completed',
      subject: { kind: 'group', groupId: 'g1', status: 'complete' },
    });
    expect(
      webhookMappingOf('group.failed', { ...group, paidMembers: 1, refundedMinor: 3 }),
    ).toEqual({
      type: 'group.failed',
      subject: { kind: 'group', groupId: 'g1', status: 'failed' },
    });
    expect(
      webhookMappingOf('order.grouped', {
        dropId: 'd1',
        orderId: 'o1',
        fanId: 'f',
        quantity: 1,
        amountMinor: 3,
        groupId: 'g1',
        paidMembers: 1,
      }),
    ).toBeUndefined();
  });

  it('numbers one drop’s events in stream order, and names each delivery after its event', () => {
    const ids = [
      'd1:1767225600000-0',
      'd1:1767225600000-1',
      'd1:1767225600001-0',
      'd1:1799999999999-7',
    ];
    const seqs = ids.map(seqOfEventId);
    expect(seqs.every((s) => Number.isSafeInteger(s))).toBe(true);
    expect([...seqs].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqOfEventId('0b7e8d5e-uuid')).toBeUndefined();
    expect(deliveryIdOf('d1:1767225600000-1')).toBe('evt_d1_1767225600000-1');
  });
});
