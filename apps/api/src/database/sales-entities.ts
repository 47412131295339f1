/** Every TypeORM entity of the `sales` schema, listed explicitly so the bundle finds them. */
export const salesEntities: (new () => object)[] = [];
