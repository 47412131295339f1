import { parseRfc3339, RFC3339_RULE } from '@flashdrop/contracts';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { FieldRule } from './lean-body';

/** A DTO field that holds an RFC 3339 date-time (libs/contracts `parseRfc3339`). */
export function IsRfc3339(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isRfc3339',
      validator: {
        validate: (value: unknown) => parseRfc3339(value) !== undefined,
        defaultMessage: (args) => `${args?.property ?? 'value'} ${RFC3339_RULE}`,
      },
    },
    options,
  );
}

/** The same rule for a hand-checked body or query (libs/http `checkBody`). */
export const rfc3339Time: FieldRule = (v, field) =>
  parseRfc3339(v) === undefined ? `${field} ${RFC3339_RULE}` : undefined;
