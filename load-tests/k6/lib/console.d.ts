// k6 provides `console` in every context; @types/k6 does not declare it (it is the DOM's).
declare const console: {
  log(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
};
