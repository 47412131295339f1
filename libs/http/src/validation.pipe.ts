import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { DomainError, ErrorDetail } from '@flashdrop/contracts';
import { unknownField } from './lean-body';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    // One detail per bad field: the first broken rule says enough.
    return [...own.slice(0, 1), ...flatten(e.children ?? [], field)];
  });
}

/** The properties a DTO class declares (every decorated field), once per class. */
type DtoClass = abstract new (...args: never[]) => unknown;
const declared = new Map<DtoClass, ReadonlySet<string>>();
function declaredFields(dto: DtoClass): ReadonlySet<string> {
  let fields = declared.get(dto);
  if (!fields) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    fields = new Set(metadata.map((m) => m.propertyName));
    declared.set(dto, fields);
  }
  return fields;
}

/**
 * The global validation pipe: whitelist, unknown fields refused, no implicit type coercion (a
 * string "5" is not an integer), and a body that is not a JSON object refused. Every failure is
 * 400 VALIDATION_FAILED with one detail per bad field, before any handler runs.
 *
 * Unknown fields are checked here first, as own fields of the object against the DTO's declared
 * ones: class-validator's whitelist looks names up in a plain object, so a body field named
 * like something every object inherits (`toString`, `constructor`, `hasOwnProperty`) passed it.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => DomainError.invalid(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === null || value === '') value = {};
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new DomainError('VALIDATION_FAILED', 'request body must be a JSON object', [
          { field: 'body', message: 'must be a JSON object' },
        ]);
      }
    }
    const dto = metadata.metatype;
    if (dto && dto !== Object && typeof value === 'object' && value !== null) {
      const fields = declaredFields(dto as DtoClass);
      const unknown = Object.keys(value).filter((field) => !fields.has(field));
      if (unknown.length > 0) {
        throw DomainError.invalid(unknown.map(unknownField));
      }
    }
    return super.transform(value, metadata);
  }
}
