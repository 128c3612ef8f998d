import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'dotenv';
import { EnvironmentVariables } from './env.schema';
import { validateEnv } from './validate-env';

const example = parse(
  readFileSync(join(__dirname, '..', '..', '.env.example')),
);

describe('.env.example', () => {
  it('documents every variable the service reads', () => {
    const known = getMetadataStorage()
      .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
      .map((m) => m.propertyName);
    expect(known).toContain('WHATSAPP_APP_SECRET');
    expect(Object.keys(example).sort()).toEqual([...new Set(known)].sort());
  });

  it('is a valid configuration as it stands', () => {
    expect(() => validateEnv(example)).not.toThrow();
  });
});
