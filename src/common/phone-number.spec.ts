import {
  maskPhoneNumber,
  normalizePhoneNumber,
  toWhatsappRecipient,
} from './phone-number';

describe('normalizePhoneNumber', () => {
  it.each([
    ['16505551234', '16505551234'],
    ['+16505551234', '16505551234'],
    ['+1 (650) 555-1234', '16505551234'],
    ['1.650.555.1234', '16505551234'],
    ['  +44 20 7946 0958 ', '442079460958'],
    ['+91\t63155\u00a051234', '916315551234'],
    ['(+44) 20 7946 0958', '442079460958'],
  ])('reduces %j to the wa_id digits %s', (input, expected) => {
    expect(normalizePhoneNumber(input)).toBe(expected);
  });

  it('keeps a leading 00 as given instead of reading it as an international prefix', () => {
    expect(normalizePhoneNumber('0044 20 7946 0958')).toBe('00442079460958');
  });

  it('accepts 7 to 15 digits', () => {
    expect(normalizePhoneNumber('1234567')).toBe('1234567');
    expect(normalizePhoneNumber('+123456789012345')).toBe('123456789012345');
  });

  it.each([
    ['too few digits', '123456'],
    ['too many digits', '1234567890123456'],
    ['empty', ''],
    ['only separators', ' - ( ) . '],
    ['only a plus', '+'],
    ['letters', '+1 650 CALL NOW'],
    ['an extension', '+16505551234 ext 5'],
    ['a plus in the middle', '1650+5551234'],
    ['two pluses', '++16505551234'],
    ['a trailing plus', '16505551234+'],
    ['a slash', '+1/650/555/1234'],
    ['a BSUID-like id', 'US.13491208655302741918'],
  ])('rejects %s', (_label, input) => {
    expect(normalizePhoneNumber(input)).toBeNull();
  });

  it('returns null rather than throwing for a non-string at runtime', () => {
    expect(normalizePhoneNumber(16505551234 as unknown as string)).toBeNull();
  });
});

describe('toWhatsappRecipient', () => {
  it('prefixes a wa_id with + so Meta does not prepend the business country code', () => {
    expect(toWhatsappRecipient('16505551234')).toBe('+16505551234');
  });

  it('normalises a number that already has a + or separators', () => {
    expect(toWhatsappRecipient('+1 (650) 555-1234')).toBe('+16505551234');
  });

  it('throws a RangeError that does not reveal the number when it is invalid', () => {
    expect(() => toWhatsappRecipient('1650+5551234')).toThrow(RangeError);
    expect(() => toWhatsappRecipient('1650+5551234')).toThrow(
      'Not a valid WhatsApp phone number: ******1234',
    );
  });
});

describe('maskPhoneNumber', () => {
  it('keeps only the last 4 digits behind a fixed-width mask', () => {
    expect(maskPhoneNumber('16505551234')).toBe('******1234');
    expect(maskPhoneNumber('442079460958')).toBe('******0958');
  });

  it('shows the same mask width for a 7-digit and a 15-digit number', () => {
    expect(maskPhoneNumber('1234567')).toBe('******4567');
    expect(maskPhoneNumber('123456789012345')).toBe('******2345');
  });

  it('ignores + and separators when picking the last digits', () => {
    expect(maskPhoneNumber('+1 (650) 555-1234')).toBe('******1234');
  });

  it.each([null, undefined, '', '123', '123456', '+12-34', 'abcdefghij'])(
    'masks short, empty or digitless input %p completely',
    (input) => {
      expect(maskPhoneNumber(input)).toBe('****');
    },
  );
});
