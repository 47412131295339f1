import { api } from '@flashdrop/testing';

/** The service routes of docs/api.md and the error shape, through the running test stack. */
describe('service routes and the error shape (running stack)', () => {
  it('answers an unknown route with 404 NOT_FOUND in the contract shape', async () => {
    const res = await api('GET', '/v1/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'NOT_FOUND', message: expect.any(String) });
  });

  it('is ready against the real Redis, PostgreSQL and Kafka', async () => {
    const res = await api<{ status: string }>('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('serves Prometheus metrics', async () => {
    const res = await api<string>('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.body).toContain('process_cpu_seconds_total');
  });

  it('serves the OpenAPI document and its page', async () => {
    const doc = await api<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/docs/openapi.json',
    );
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect((await api('GET', '/docs')).status).toBe(200);
  });

  it('documents the routes Fastify serves directly (the grab, the reservation) beside Nest routes', async () => {
    const doc = await api<{ paths: Record<string, Record<string, { tags?: string[] }>> }>(
      'GET',
      '/docs/openapi.json',
    );
    expect(doc.body.paths['/v1/drops/{id}/purchases']?.post?.tags).toEqual(['fans']);
    expect(doc.body.paths['/v1/drops/{id}/reservations']?.post?.tags).toEqual(['fans']);
    // A Nest route in the same document, under its controller's tag.
    expect(doc.body.paths['/v1/drops/{id}']?.get?.tags).toEqual(['drops']);
  });

  it('echoes a request id', async () => {
    const res = await api('GET', '/health/live', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });
});
