import { WhatsappSendError } from './whatsapp-send.error';

describe('WhatsappSendError', () => {
  const error = new WhatsappSendError({
    message: 'WhatsApp Cloud API error 131047: Re-engagement message',
    code: 131047,
    httpStatus: 400,
    retryable: false,
    details: 'More than 24 hours have passed',
    fbtraceId: 'Az8or2yhqkZfEZ-_4Qn_Bam',
    kind: 'window-closed',
  });

  it('is an Error that callers can recognise with instanceof', () => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(WhatsappSendError);
  });

  it('is named WhatsappSendError so logs and stack traces show the type', () => {
    expect(error.name).toBe('WhatsappSendError');
    expect(String(error)).toBe(
      'WhatsappSendError: WhatsApp Cloud API error 131047: Re-engagement message',
    );
    expect(error.stack).toContain('WhatsappSendError');
  });

  // That a Graph error carries Meta's code, status, details, trace id and
  // kind is the classifier's behaviour, tested in graph-error.classifier.spec
  // ("reads the code, details and trace id and builds a readable message").

  it('exposes its fields as own properties so structured loggers serialise them', () => {
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'WhatsappSendError',
      code: 131047,
      httpStatus: 400,
      retryable: false,
      details: 'More than 24 hours have passed',
      fbtraceId: 'Az8or2yhqkZfEZ-_4Qn_Bam',
      kind: 'window-closed',
    });
  });
});
