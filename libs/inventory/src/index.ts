// The grab's Lua scripts and their typed face live here (see libs/inventory/README.md).
export {};
