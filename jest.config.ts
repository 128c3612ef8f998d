import type { Config } from 'jest';

// The default run: unit specs beside the code (src/**/*.spec.ts) and the
// end-to-end specs (test/**/*.e2e-spec.ts). Integration specs that need the
// PostgreSQL and Redis servers live in *.int-spec.ts and run separately.
const config: Config = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.(t|j)s$': 'ts-jest',
  },
  collectCoverageFrom: ['src/**/*.(t|j)s'],
  coverageDirectory: './coverage',
  testEnvironment: 'node',
  testTimeout: 30000,
};

export default config;
