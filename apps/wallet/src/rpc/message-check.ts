import { DomainError } from '@flashdrop/contracts';
import { FieldRule, fieldDetails } from '@flashdrop/http';

/**
 * Checks a message of the wallet's hot patterns (debit, credit) by hand, with the same rules and
 * the same refusal as the global class-validator pipe (libs/http `fieldDetails`: unknown fields
 * refused, no coercion, 400 VALIDATION_FAILED with one detail per bad field): that pipe's pass
 * (plainToInstance + validate) was ~20% of the wallet's CPU per debit. Every field is required.
 * Returns the message with exactly `rules`' fields.
 */
export function checkMessage<T extends object>(
  message: unknown,
  rules: { readonly [K in keyof T]-?: FieldRule },
): T {
  const details =
    typeof message !== 'object' || message === null || Array.isArray(message)
      ? [{ field: 'message', message: 'must be an object' }]
      : fieldDetails<T>(message as Record<string, unknown>, rules, true);
  if (details.length > 0) throw DomainError.invalid(details);
  return message as T;
}
