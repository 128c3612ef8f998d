import { parseCustomerId } from './customer-id';

describe('parseCustomerId', () => {
  it.each([
    ['16505551234', '16505551234'],
    ['+1 (650) 555-1234', '16505551234'],
    ['+44 20 7946 0958', '442079460958'],
    ['+31 6 1234 5678', '31612345678'],
    ['+91 63155 51234', '916315551234'],
  ])('reads the phone number %j as the wa_id %s', (input, expected) => {
    expect(parseCustomerId(input)).toBe(expected);
  });

  it.each([
    'US.13491208655302741918',
    'BR.abcDEF123',
    ' US.13491208655302741918 ',
  ])('keeps the BSUID %j as the customer key', (input) => {
    expect(parseCustomerId(input)).toBe(input.trim());
  });

  it.each([
    ['all zeros', '0000000'],
    ['all zeros with +', '+0000000'],
    ['a leading 00 instead of +', '0044 20 7946 0958'],
    ['a leading 0 (a national number)', '020 7946 0958'],
    ['a country code that does not exist', '+999 123 4567'],
    ['too short for its country', '+1 650 555'],
    ['too long for its country', '+44 20 7946 0958 123'],
    ['letters', '+1 650 CALL NOW'],
    ['a BSUID without an id', 'US.'],
    ['a BSUID with a lower-case country', 'us.13491208655302741918'],
    ['a BSUID with a three-letter country', 'USA.1349'],
    ['a BSUID with punctuation', 'US.1349-1208'],
    ['a BSUID with a path', 'US.../etc'],
    ['a NUL character', '\u0000'],
    ['an empty string', ''],
  ])('refuses %s (%j)', (_label, input) => {
    expect(parseCustomerId(input)).toBeNull();
  });

  it('refuses a value that is not a string', () => {
    expect(parseCustomerId(16505551234)).toBeNull();
  });
});
