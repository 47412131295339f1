import Redis from 'ioredis';

/**
 * A stand-in for the sale's Lua scripts in tests of the event pipeline alone: each call changes
 * the sale's keys (libs/inventory/README.md layout) and writes the catalog event for it into the
 * drop's outbox stream, atomically, the way the real scripts do. The pipeline's truth is then
 * read from those keys (sale-truth.ts), exactly as for the real scripts.
 */
const SCRIPT = `
local op = ARGV[1]
local drop, stock, res, stats, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[2]
local function emit(etype, data)
  redis.call('XADD', events, '*', 'type', etype, 'v', 1, 'at', now, 'data', cjson.encode(data))
end
if op == 'create' then
  local q = tonumber(ARGV[4])
  redis.call('HSET', drop, 'id', id, 'brandId', ARGV[3], 'quantity', q, 'priceMinor', ARGV[5],
    'currency', 'CNY', 'createdAt', now, 'title', ARGV[6])
  redis.call('SET', stock, q)
  redis.call('SADD', 'drops:index', id)
  emit('drop.created', {dropId = id, brandId = ARGV[3], quantity = q,
    priceMinor = tonumber(ARGV[5]), currency = 'CNY'})
  return 'OK'
elseif op == 'reserve' then
  if redis.call('HSETNX', res, ARGV[3], 1) == 0 then return 'EXISTING' end
  local data = {dropId = id, fanId = ARGV[3]}
  if ARGV[4] ~= '' then
    data.referrerId = ARGV[4]
    redis.call('HINCRBY', stats, 'referrals', 1)
  end
  emit('reservation.created', data)
  return 'CREATED'
elseif op == 'share' then
  redis.call('HINCRBY', stats, 'shares', 1)
  emit('share.recorded', {dropId = id, fanId = ARGV[3], channel = ARGV[4]})
  return 'OK'
elseif op == 'grab' then
  local fan, q, order = ARGV[3], tonumber(ARGV[4]), ARGV[5]
  redis.call('HINCRBY', stats, 'attempts', 1)
  local code = false
  if redis.call('HEXISTS', res, fan) == 0 then code = 'NOT_RESERVED'
  elseif tonumber(redis.call('GET', stock)) < q then code = 'SOLD_OUT' end
  if code then
    redis.call('HINCRBY', stats, 'rej:' .. code, 1)
    emit('grab.rejected', {dropId = id, fanId = fan, code = code})
    return code
  end
  local remaining = redis.call('DECRBY', stock, q)
  local price = tonumber(redis.call('HGET', drop, 'priceMinor'))
  redis.call('HSET', KEYS[6], 'id', order, 'fanId', fan, 'quantity', q, 'status', 'held',
    'amountMinor', price * q)
  redis.call('HINCRBY', stats, 'held', q)
  redis.call('HSETNX', stats, 'firstSaleAt', now)
  if remaining == 0 then redis.call('HSETNX', stats, 'soldOutAt', now) end
  emit('grab.accepted', {dropId = id, orderId = order, fanId = fan, quantity = q,
    amountMinor = price * q, expiresAt = now + 600000, remaining = remaining})
  return 'OK'
else
  -- pay | expire | cancel an order KEYS[6]
  local o = KEYS[6]
  if redis.call('HGET', o, 'status') ~= 'held' then return 'NOT_HELD' end
  local q = tonumber(redis.call('HGET', o, 'quantity'))
  local fan = redis.call('HGET', o, 'fanId')
  local order = redis.call('HGET', o, 'id')
  redis.call('HINCRBY', stats, 'held', -q)
  if op == 'pay' then
    local amount = tonumber(redis.call('HGET', o, 'amountMinor'))
    redis.call('HSET', o, 'status', 'paid')
    redis.call('HINCRBY', stats, 'paid', q)
    redis.call('HINCRBY', stats, 'revenueMinor', amount)
    emit('order.paid', {dropId = id, orderId = order, fanId = fan, quantity = q, amountMinor = amount})
  else
    local status = op == 'expire' and 'expired' or 'cancelled'
    redis.call('HSET', o, 'status', status)
    redis.call('HINCRBY', stats, status, q)
    local remaining = redis.call('INCRBY', stock, q)
    emit(op == 'expire' and 'hold.expired' or 'hold.cancelled',
      {dropId = id, orderId = order, fanId = fan, quantity = q, remaining = remaining})
  end
  return 'OK'
end
`;

export class SaleSimulator {
  private orders = 0;

  constructor(private readonly redis: Redis) {}

  private run(op: string, dropId: string, orderId: string, ...args: (string | number)[]) {
    const tag = `{d:${dropId}}`;
    return this.redis.eval(
      SCRIPT,
      6,
      `${tag}:drop`,
      `${tag}:stock`,
      `${tag}:res`,
      `${tag}:stats`,
      `${tag}:events`,
      `${tag}:o:${orderId}`,
      op,
      dropId,
      ...args,
    ) as Promise<string>;
  }

  createDrop(dropId: string, brandId: string, quantity: number, priceMinor = 199900) {
    return this.run('create', dropId, 'none', brandId, quantity, priceMinor, `Drop ${dropId}`);
  }
  reserve(dropId: string, fanId: string, referrerId = '') {
    return this.run('reserve', dropId, 'none', fanId, referrerId);
  }
  share(dropId: string, fanId: string, channel: string) {
    return this.run('share', dropId, 'none', fanId, channel);
  }
  /** Answers the order id when accepted, the refusal code otherwise. */
  async grab(dropId: string, fanId: string, quantity = 1): Promise<string> {
    const orderId = `${dropId}-o${++this.orders}-${process.pid}`;
    const answer = await this.run('grab', dropId, orderId, fanId, quantity, orderId);
    return answer === 'OK' ? orderId : answer;
  }
  pay(dropId: string, orderId: string) {
    return this.run('pay', dropId, orderId);
  }
  expire(dropId: string, orderId: string) {
    return this.run('expire', dropId, orderId);
  }
  cancel(dropId: string, orderId: string) {
    return this.run('cancel', dropId, orderId);
  }
}

/**
 * A burst of mixed traffic on one drop: reservations (some referred), shares on several channels,
 * grabs by reserved and unreserved fans (some past the stock), then payments, expiries and
 * cancels of the holds. All requests of a phase are in flight at once.
 */
export async function mixedBurst(sim: SaleSimulator, dropId: string, fans: number): Promise<void> {
  const fanIds = Array.from({ length: fans }, (_, i) => `${dropId}-f${i}`);
  await Promise.all(
    fanIds.map((fan, i) =>
      i % 5 === 4
        ? Promise.resolve()
        : sim.reserve(dropId, fan, i % 3 === 0 && i > 0 ? fanIds[0] : ''),
    ),
  );
  const channels = ['weibo', 'wechat', 'qq'];
  await Promise.all(fanIds.map((fan, i) => sim.share(dropId, fan, channels[i % 3])));
  const orders = (await Promise.all(fanIds.map((fan) => sim.grab(dropId, fan)))).filter((o) =>
    o.includes('-o'),
  );
  await Promise.all(
    orders.map((order, i) =>
      i % 3 === 0
        ? sim.pay(dropId, order)
        : i % 3 === 1
          ? sim.expire(dropId, order)
          : i % 6 === 2
            ? sim.cancel(dropId, order)
            : Promise.resolve(),
    ),
  );
}
