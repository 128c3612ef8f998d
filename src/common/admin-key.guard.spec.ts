import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { AdminKeyGuard } from './admin-key.guard';
import { secretsMatch } from './secrets';

const KEY = 'admin-key-0123456789';

const guardWith = (env: Record<string, string>) =>
  new AdminKeyGuard(new AppConfig(validateEnv(env)).admin);

/** The slice of an ExecutionContext the guard reads: the request's headers. */
const requestWith = (authorization?: string): ExecutionContext =>
  ({
    switchToHttp: () => ({
      getRequest: () => ({
        headers: authorization === undefined ? {} : { authorization },
      }),
    }),
  }) as unknown as ExecutionContext;

/** What the guard decided: true, or the exception it threw. */
const decide = (guard: AdminKeyGuard, authorization?: string): unknown => {
  try {
    return guard.canActivate(requestWith(authorization));
  } catch (error) {
    return error;
  }
};

describe('AdminKeyGuard', () => {
  describe('while ADMIN_API_KEY is unset', () => {
    const guard = guardWith({});

    it.each([
      ['no Authorization header', undefined],
      ['a bearer token', 'Bearer anything'],
      ['an empty bearer token', 'Bearer '],
    ])(
      'refuses a call with %s, saying the admin API is disabled',
      (_, header) => {
        const outcome = decide(guard, header);
        expect(outcome).toBeInstanceOf(UnauthorizedException);
        expect((outcome as UnauthorizedException).getStatus()).toBe(401);
        expect((outcome as UnauthorizedException).message).toMatch(
          /disabled.*ADMIN_API_KEY/,
        );
      },
    );

    it('treats an empty ADMIN_API_KEY as unset', () => {
      const outcome = decide(guardWith({ ADMIN_API_KEY: '' }), 'Bearer ');
      expect(outcome).toBeInstanceOf(UnauthorizedException);
    });
  });

  describe('with ADMIN_API_KEY set', () => {
    const guard = guardWith({ ADMIN_API_KEY: KEY });

    it.each([
      ['no Authorization header', undefined],
      ['an empty Authorization header', ''],
      ['the key without a scheme', KEY],
      ['the Basic scheme', `Basic ${KEY}`],
      ['the Token scheme', `Token ${KEY}`],
      ['the scheme glued to the key', `Bearer${KEY}`],
      ['a wrong key', 'Bearer not-the-admin-key'],
      ['the key with extra characters', `Bearer ${KEY}x`],
      ['the key with a second word', `Bearer ${KEY} ${KEY}`],
      ['a prefix of the key', `Bearer ${KEY.slice(0, -1)}`],
      ['the key in another case', `Bearer ${KEY.toUpperCase()}`],
      ['the scheme alone', 'Bearer'],
    ])('refuses %s with 401', (_, header) => {
      const outcome = decide(guard, header);
      expect(outcome).toBeInstanceOf(UnauthorizedException);
      expect((outcome as UnauthorizedException).getStatus()).toBe(401);
      expect((outcome as UnauthorizedException).message).toBe(
        'Missing or invalid admin API key',
      );
    });

    it.each([
      ['Bearer', `Bearer ${KEY}`],
      ['bearer', `bearer ${KEY}`],
      ['BEARER', `BEARER ${KEY}`],
    ])('lets the right key through with the scheme written %s', (_, header) => {
      expect(decide(guard, header)).toBe(true);
    });

    it('never echoes the expected key in its refusal', () => {
      const outcome = decide(guard, 'Bearer wrong');
      expect(
        JSON.stringify((outcome as UnauthorizedException).getResponse()),
      ).not.toContain(KEY);
    });
  });
});

describe('secretsMatch', () => {
  it('matches identical secrets', () => {
    expect(secretsMatch(KEY, KEY)).toBe(true);
    expect(secretsMatch('', '')).toBe(true);
  });

  it.each([
    ['a different secret of the same length', 'admin-key-0123456788'],
    ['a prefix', KEY.slice(0, 5)],
    ['a longer secret', `${KEY}0`],
    ['an empty string', ''],
    ['the secret in another case', KEY.toUpperCase()],
  ])('rejects %s without throwing', (_, given) => {
    expect(secretsMatch(given, KEY)).toBe(false);
  });

  it('compares unicode secrets by content', () => {
    expect(secretsMatch('clé-secrète', 'clé-secrète')).toBe(true);
    expect(secretsMatch('clé-secrète', 'cle-secrete')).toBe(false);
  });
});
