/**
 * How many orders beyond the drop's perUserLimit a fan may have in one drop (orders that ended
 * unpaid: cancelled or expired). Past perUserLimit + this, grab.lua answers LIMIT_REACHED and a
 * release down the waitlist passes the fan over (_lib.lua hand_down, given it by the scripts'
 * prelude), so a fan looping grab + cancel, or join + backfill + cancel, cannot grow the drop's
 * keys without bound.
 */
export const ORDERS_BEYOND_LIMIT = 20;
