import { api, createDrop, dropBody, errorOf, openDropBody, tokenFor } from '@flashdrop/testing';

/**
 * docs/api.md "General": a method the route does not serve is 405 METHOD_NOT_ALLOWED with an `Allow`
 * header, in the contract's error shape, and changes nothing; an unknown route stays 404.
 */
describe('405 METHOD_NOT_ALLOWED with Allow (running stack)', () => {
  it.each([
    ['DELETE', '/v1/drops/{drop}', 'GET, HEAD, PATCH'],
    ['PUT', '/v1/drops/{drop}', 'GET, HEAD, PATCH'],
    ['GET', '/v1/drops/{drop}/purchases', 'POST'],
    ['GET', '/v1/drops/{drop}/reservations', 'POST'],
    ['DELETE', '/v1/drops', 'GET, HEAD, POST'],
    ['POST', '/v1/orders', 'GET, HEAD'],
    ['GET', '/v1/orders/o1/payment', 'POST'],
    ['POST', '/v1/drops/{drop}/stats', 'GET, HEAD'],
    ['POST', '/health/live', 'GET, HEAD'],
  ])('%s %s -> 405, Allow: %s', async (method, path, allow) => {
    const brand = tokenFor('brand');
    const drop = await createDrop(openDropBody(), brand);
    const res = await api(method, path.replace('{drop}', drop.id), {
      token: brand,
      body: method === 'GET' ? undefined : {},
    });
    expect(res.status).toBe(405);
    expect(errorOf(res)).toBe('METHOD_NOT_ALLOWED');
    expect(typeof (res.body as { message?: unknown }).message).toBe('string');
    expect(res.headers.get('allow')).toBe(allow);
    // Nothing changed: the drop is still there, as it was.
    const after = await api<{ id: string; remaining: number }>('GET', `/v1/drops/${drop.id}`);
    expect(after.status).toBe(200);
    expect(after.body.remaining).toBe(drop.remaining);
  });

  it('an unknown route is still 404 NOT_FOUND, without Allow', async () => {
    const res = await api('DELETE', '/v1/nothing-here', { token: tokenFor('fan') });
    expect(res.status).toBe(404);
    expect(errorOf(res)).toBe('NOT_FOUND');
    expect(res.headers.get('allow')).toBeNull();
  });

  it('a route that answers 404 itself is not turned into 405', async () => {
    const drop = await createDrop(dropBody());
    // Another id of the same form: its last character changed (an id that already ends in 0
    // would otherwise name the drop itself, and 1 run in 16 answered 200).
    const last = drop.id.slice(-1) === '0' ? '1' : '0';
    const res = await api('GET', `/v1/drops/${drop.id.slice(0, -1)}${last}`);
    expect(res.status).toBe(404);
    expect(errorOf(res)).toBe('NOT_FOUND');
  });
});
