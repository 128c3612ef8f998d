import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ServedNumberFilter } from './served-number.filter';

const configServing = (phoneNumberId: string | null) =>
  ({ whatsapp: { phoneNumberId } }) as AppConfig;

describe('ServedNumberFilter', () => {
  let warnings: unknown[][];

  beforeEach(() => {
    warnings = [];
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((...args: unknown[]) => {
        warnings.push(args);
      });
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('answers the configured number only, and warns once per other number', () => {
    const { answers } = new ServedNumberFilter(configServing('1065').whatsapp);

    expect(
      ['1065', '2000', '2000', '3000', '1065', '2000'].map(answers),
    ).toEqual([true, false, false, false, true, false]);
    expect(warnings.map(([fields]) => fields)).toEqual([
      { phoneNumberId: '2000', servedPhoneNumberId: '1065' },
      { phoneNumberId: '3000', servedPhoneNumberId: '1065' },
    ]);
  });

  it('answers a message that names no business number from the configured one, without a warning', () => {
    const { answers } = new ServedNumberFilter(configServing('1065').whatsapp);

    expect([answers(null), answers(null)]).toEqual([true, true]);
    expect(warnings).toHaveLength(0);
  });

  it('answers nothing while WHATSAPP_PHONE_NUMBER_ID is unset, saying so once per number', () => {
    const { answers } = new ServedNumberFilter(configServing(null).whatsapp);

    expect([answers('1065'), answers('1065'), answers(null)]).toEqual([
      false,
      false,
      false,
    ]);
    expect(warnings).toHaveLength(2);
    expect(String(warnings[0][1])).toMatch(/WHATSAPP_PHONE_NUMBER_ID is unset/);
  });
});
