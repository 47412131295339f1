import { ErrorCode } from './error-codes';
import {
  AtCapacityMessages,
  ErrorMessages,
  NotFoundMessages,
  TooManyMessages,
} from './error-messages';

/** One problem with one field of a request, as listed in an error body's `details`. */
export interface ErrorDetail {
  readonly field: string;
  readonly message: string;
}

/** The error body of every non-2xx answer (docs/api.md "General"). */
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
    /** When the thrower knows more than the code's own message (ErrorMessages). */
    message: string = ErrorMessages[code],
    readonly details?: readonly ErrorDetail[],
    /** For 429 and 503: when to try again (the answer's Retry-After; 1 s when absent). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** 400 VALIDATION_FAILED with one detail per bad field. */
  static invalid(details: readonly ErrorDetail[]): DomainError {
    return new DomainError('VALIDATION_FAILED', ErrorMessages.VALIDATION_FAILED, details);
  }

  /** 404 NOT_FOUND of a drop or an order. */
  static notFound(what: keyof typeof NotFoundMessages): DomainError {
    return new DomainError('NOT_FOUND', NotFoundMessages[what]);
  }

  /** 429 TOO_MANY_REQUESTS: one caller went over a bound; Retry-After says when to come back. */
  static tooMany(what: keyof typeof TooManyMessages, retryAfterSeconds: number): DomainError {
    return new DomainError(
      'TOO_MANY_REQUESTS',
      TooManyMessages[what],
      undefined,
      retryAfterSeconds,
    );
  }

  /** 503 SERVICE_UNAVAILABLE: this process is at a bound of its own; try again later. */
  static atCapacity(what: keyof typeof AtCapacityMessages, retryAfterSeconds: number): DomainError {
    return new DomainError(
      'SERVICE_UNAVAILABLE',
      AtCapacityMessages[what],
      undefined,
      retryAfterSeconds,
    );
  }

  toBody(): ErrorBody {
    return this.details
      ? { error: this.code, message: this.message, details: this.details }
      : { error: this.code, message: this.message };
  }
}
