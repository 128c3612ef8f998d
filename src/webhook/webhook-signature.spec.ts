import { isValidSignature, signPayload } from './webhook-signature';

const secret = 'app-secret';

describe('isValidSignature', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

  it('accepts the HMAC-SHA256 of the raw bytes keyed with the app secret', () => {
    expect(isValidSignature(body, signPayload(body, secret), secret)).toBe(
      true,
    );
  });

  it('accepts upper-case hex', () => {
    const header = `sha256=${signPayload(body, secret).slice(7).toUpperCase()}`;
    expect(isValidSignature(body, header, secret)).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    expect(isValidSignature(body, signPayload(body, 'other'), secret)).toBe(
      false,
    );
  });

  it('rejects a body changed after signing', () => {
    const header = signPayload(body, secret);
    const tampered = Buffer.from(body.toString().replace('[]', '[{}]'));
    expect(isValidSignature(tampered, header, secret)).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', signPayload(body, secret).slice(7)],
    ['sha1', `sha1=${'a'.repeat(40)}`],
    ['truncated', signPayload(body, secret).slice(0, 40)],
    ['repeated', [signPayload(body, secret), signPayload(body, secret)]],
  ])('rejects a %s header', (_name, header) => {
    expect(isValidSignature(body, header, secret)).toBe(false);
  });

  it('verifies the escaped bytes Meta sends for non-ASCII text, not a re-serialisation', () => {
    // Meta sends "äöå" as \u00e4\u00f6\u00e5 and signs exactly those bytes.
    const wire = Buffer.from('{"text":{"body":"\\u00e4\\u00f6\\u00e5"}}');
    const header = signPayload(wire, secret);
    expect(isValidSignature(wire, header, secret)).toBe(true);
    const reserialised = Buffer.from(
      JSON.stringify(JSON.parse(wire.toString())),
    );
    expect(reserialised.equals(wire)).toBe(false);
    expect(isValidSignature(reserialised, header, secret)).toBe(false);
  });

  it('rejects when there is no raw body', () => {
    expect(isValidSignature(undefined, signPayload('', secret), secret)).toBe(
      false,
    );
  });
});
