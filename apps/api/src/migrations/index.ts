/** The `sales` schema's migrations, oldest first. Never edit one that has shipped. */
export const salesMigrations: (new () => object)[] = [];
