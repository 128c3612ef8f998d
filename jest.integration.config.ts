import type { Config } from 'jest';

// `npm run test:integration`: suites that need the PostgreSQL server
// (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and, for
// scale-out, Redis (REDIS_URL, default redis://127.0.0.1:6379). One worker:
// the suites share those servers.
const config: Config = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.int-spec\\.ts$',
  transform: {
    '^.+\\.(t|j)s$': 'ts-jest',
  },
  testEnvironment: 'node',
  testTimeout: 60000,
  maxWorkers: 1,
};

export default config;
