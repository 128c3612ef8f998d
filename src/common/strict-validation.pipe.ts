import {
  ArgumentMetadata,
  BadRequestException,
  ValidationPipe,
} from '@nestjs/common';

/** Deepest nesting of objects and arrays a request value may have. */
export const MAX_INPUT_DEPTH = 32;
const MAX_PROBLEMS = 10;

/**
 * Problems no DTO rule can catch, found without recursion: a NUL character
 * in any string or key (PostgreSQL text cannot hold one), and nesting deeper
 * than `MAX_INPUT_DEPTH` (class-transformer walks a value recursively and
 * overflows the stack). Each problem names the field, never its content.
 */
export function findUnsafeInput(value: unknown): string[] {
  const problems: string[] = [];
  const pending: Array<{ value: unknown; path: string; depth: number }> = [
    { value, path: '', depth: 0 },
  ];
  while (pending.length > 0 && problems.length < MAX_PROBLEMS) {
    const item = pending.pop()!;
    if (typeof item.value === 'string') {
      if (item.value.includes('\u0000')) {
        problems.push(
          `${item.path || 'value'} must not contain the NUL character (\\u0000)`,
        );
      }
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_INPUT_DEPTH) {
      const field = item.path.split(/[.[]/)[0] || 'body';
      problems.push(
        `${field} is nested too deeply (more than ${MAX_INPUT_DEPTH} levels)`,
      );
      continue;
    }
    const entries = Array.isArray(item.value)
      ? item.value.map((v, i) => [`${item.path}[${i}]`, v] as const)
      : Object.entries(item.value).map(([key, v]) => {
          if (key.includes('\u0000')) {
            problems.push(
              `${item.path || 'body'} must not have a key with the NUL character (\\u0000)`,
            );
          }
          return [item.path ? `${item.path}.${key}` : key, v] as const;
        });
    for (const [path, child] of entries) {
      pending.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return [...new Set(problems)];
}

/**
 * The global ValidationPipe, with the checks of `findUnsafeInput` run on a
 * body or query before class-transformer sees it: such input is a 400 that
 * names the field, not a 500.
 */
export class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata) {
    if (this.toValidate(metadata)) {
      const problems = findUnsafeInput(value);
      if (problems.length > 0) throw new BadRequestException(problems);
    }
    return super.transform(value, metadata);
  }
}
