import { BadRequestException } from '@nestjs/common';
import { IsString } from 'class-validator';
import {
  findUnsafeInput,
  MAX_INPUT_DEPTH,
  StrictValidationPipe,
} from './strict-validation.pipe';

/** `{a: {a: … {a: 1}}}`, `depth` objects deep, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

class NoteDto {
  @IsString()
  message: string;
}

describe('findUnsafeInput', () => {
  it('finds nothing in ordinary input', () => {
    expect(
      findUnsafeInput({
        message: 'Hola, ¿qué tal? 👋\n\tbye',
        context: [{ role: 'user', content: 'x' }],
        limit: 5,
        empty: null,
      }),
    ).toEqual([]);
  });

  it('names every field holding a NUL character, never its content', () => {
    const problems = findUnsafeInput({
      message: 'secret\u0000text',
      context: [{ role: 'user', content: 'a\u0000' }],
    });
    expect(problems.sort()).toEqual([
      'context[0].content must not contain the NUL character (\\u0000)',
      'message must not contain the NUL character (\\u0000)',
    ]);
    expect(problems.join()).not.toContain('secret');
  });

  it('refuses a key holding a NUL character', () => {
    expect(findUnsafeInput({ 'a\u0000': 1 })).toEqual([
      'body must not have a key with the NUL character (\\u0000)',
    ]);
  });

  it(`accepts ${MAX_INPUT_DEPTH} levels of nesting and refuses one more, naming the top-level field`, () => {
    expect(findUnsafeInput({ message: nested(MAX_INPUT_DEPTH - 1) })).toEqual(
      [],
    );
    expect(findUnsafeInput({ message: nested(MAX_INPUT_DEPTH) })).toEqual([
      `message is nested too deeply (more than ${MAX_INPUT_DEPTH} levels)`,
    ]);
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    expect(findUnsafeInput({ context: nested(100_000) })).toEqual([
      `context is nested too deeply (more than ${MAX_INPUT_DEPTH} levels)`,
    ]);
  });
});

describe('StrictValidationPipe', () => {
  const pipe = new StrictValidationPipe({ whitelist: true, transform: true });

  it('answers a body nested 5,000 levels deep with a BadRequestException naming the field', async () => {
    const outcome = await pipe
      .transform({ message: nested(5000) }, { type: 'body', metatype: NoteDto })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(BadRequestException);
    expect((outcome as BadRequestException).getResponse()).toMatchObject({
      message: [
        `message is nested too deeply (more than ${MAX_INPUT_DEPTH} levels)`,
      ],
    });
  });

  it('leaves values it does not validate (no DTO class) alone', async () => {
    const value = { message: 'a\u0000' };
    await expect(
      pipe.transform(value, { type: 'body', metatype: Object }),
    ).resolves.toBe(value);
  });
});
