import { ErrorCode } from './error-codes';

/** One problem with one field of a request, as listed in an error body's `details`. */
export interface ErrorDetail {
  readonly field: string;
  readonly message: string;
}

/** The error body of every non-2xx answer (API.md "General"). */
export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
  readonly details?: readonly ErrorDetail[];
  /** Only on 500: the id under which the real error was logged. */
  readonly errorId?: string;
}

/**
 * A refusal the domain knows about. Services throw (or return) it; the one exception filter
 * turns it into the contract's error body and status. Never carries a stack to the client.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly ErrorDetail[],
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toBody(): ErrorBody {
    return this.details
      ? { error: this.code, message: this.message, details: this.details }
      : { error: this.code, message: this.message };
  }
}
