import { RouteTable } from './route-table';

describe('RouteTable: the methods a path serves', () => {
  const table = new RouteTable();
  table.add('GET', '/v1/drops/:id');
  table.add('HEAD', '/v1/drops/:id');
  table.add('PATCH', '/v1/drops/:id');
  table.add('POST', '/v1/drops/:id/purchases');
  table.add('GET', '/docs/*');

  it('lists every method of the routes that match the path', () => {
    expect(table.allowed('/v1/drops/d123')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowed('/v1/drops/d123/purchases?x=1')).toEqual(['POST']);
    expect(table.allowed('/docs/openapi.json')).toEqual(['GET']);
  });

  it('answers nothing for a path no route serves', () => {
    expect(table.allowed('/v1/nothing')).toEqual([]);
    expect(table.allowed('/v1/drops/a/b/c')).toEqual([]);
  });
});
