/**
 * The shape of a scenario description. Each scenario is described ONCE in this folder, as plain
 * data with no runtime imports, and read by both drivers: the k6 scripts (load-tests/k6, for
 * anyone with k6) and the project's own runner (load-tests/runner, autocannon, `npm run bench`).
 * Only type imports may appear in these files: k6 resolves value imports by exact file name,
 * Node by module name, and a type import is erased before either looks.
 */

/** The drop a scenario creates through `POST /v1/drops` (times are set by the driver). */
export interface DropSpec {
  readonly title: string;
  /** A unique suffix is appended by the driver (drops of several runs live side by side). */
  readonly skuPrefix: string;
  readonly priceMinor: number;
  readonly currency: string;
  readonly quantity: number;
  readonly perUserLimit: number;
  readonly reservationRequired: boolean;
  /** How long a grabbed unit waits for payment (docs/api.md: 10..3600). */
  readonly holdSeconds: number;
  /** API.md "Fair launch": `first_come` (the default) or `draw`. */
  readonly allocation?: 'first_come' | 'draw';
}

/** How requests arrive. k6 runs it as an open model (constant-arrival-rate executor). */
export interface ArrivalSpec {
  /** Requests started per second (open model). */
  readonly ratePerSecond: number;
  /**
   * Requests in flight at most: k6's `maxVUs`, autocannon's `connections`. autocannon is a
   * closed loop per connection, so with no rate limit it measures the capacity at this
   * concurrency; p99 is read at this concurrency for every peer alike.
   */
  readonly maxInFlight: number;
}

/**
 * One figure the benchmark prints, with the target from docs/architecture.md "Performance". Targets are
 * ratios to a floor of the same operation measured in the same run with the same generator
 * (`ratio: true`): absolute rates move with the machine (the same box measured three times
 * slower on one day than on another); a few bounds are absolute (memory, correctness).
 */
export interface TargetSpec {
  readonly label: string;
  /** `min`: the figure must be >= value; `max`: <= value. */
  readonly kind: 'min' | 'max';
  readonly value: number;
  readonly unit: string;
  /** The bound is on the figure divided by what it is compared with (its floor). */
  readonly ratio?: boolean;
}
