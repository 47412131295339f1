import { DropEntity } from '../drops/drop.entity';
import { OrderEntity } from '../orders/order.entity';

/** Every TypeORM entity of the `sales` schema, listed explicitly so the bundle finds them. */
export const salesEntities: (new () => object)[] = [DropEntity, OrderEntity];
