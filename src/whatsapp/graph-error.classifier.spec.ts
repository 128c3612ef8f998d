import {
  RETRYABLE_GRAPH_CODES,
  classifyGraphError,
  retryDelayMs,
} from './graph-error.classifier';
import { WhatsappSendError } from './whatsapp-send.error';

function metaErrorBody(code: number | string, message = 'Some error') {
  return {
    error: {
      message,
      type: 'OAuthException',
      code,
      error_data: { messaging_product: 'whatsapp', details: `details ${code}` },
      error_subcode: 2494055,
      fbtrace_id: 'Az8or2yhqkZfEZ-_4Qn_Bam',
    },
  };
}

function classifyCode(code: number, httpStatus = 400): WhatsappSendError {
  return classifyGraphError({ httpStatus, body: metaErrorBody(code) });
}

describe('RETRYABLE_GRAPH_CODES', () => {
  it('holds exactly the codes the design retries', () => {
    expect([...RETRYABLE_GRAPH_CODES].sort((a, b) => a - b)).toEqual([
      1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057,
    ]);
  });
});

describe('classifyGraphError', () => {
  describe("Meta's error body", () => {
    it('reads the code, details and trace id and builds a readable message', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: {
          error: {
            message: 'Re-engagement message',
            type: 'OAuthException',
            code: 131047,
            error_data: {
              messaging_product: 'whatsapp',
              details:
                'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
            },
            fbtrace_id: 'AbCdEf123',
          },
        },
      });

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error).toMatchObject({
        code: 131047,
        httpStatus: 400,
        retryable: false,
        kind: 'window-closed',
        details:
          'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        fbtraceId: 'AbCdEf123',
        message:
          'WhatsApp Cloud API error 131047: Re-engagement message (Message failed to send because more than 24 hours have passed since the customer last replied to this number.)',
      });
    });

    it('drops the "(#code)" prefix Meta puts on some messages', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: metaErrorBody(130429, '(#130429) Rate limit hit'),
      });

      expect(error.message).toBe(
        'WhatsApp Cloud API error 130429: Rate limit hit (details 130429)',
      );
    });

    it('leaves details and trace id null when Meta omits them', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: { error: { code: 100 } },
      });

      expect(error).toMatchObject({
        code: 100,
        details: null,
        fbtraceId: null,
        message: 'WhatsApp Cloud API error 100: no message',
      });
    });

    it('parses an error body that arrives as a JSON string', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: JSON.stringify(metaErrorBody(131056)),
      });

      expect(error).toMatchObject({ code: 131056, retryable: true });
    });

    it('accepts a numeric string code', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: metaErrorBody('131000'),
      });

      expect(error).toMatchObject({ code: 131000, retryable: true });
    });
  });

  describe('retryability by Meta code', () => {
    it.each([...RETRYABLE_GRAPH_CODES])('retries code %i', (code) => {
      expect(classifyCode(code).retryable).toBe(true);
    });

    it.each([
      131047, 100, 131026, 190, 0, 368, 3, 10, 200, 131031, 131048, 131049,
      131050, 130403, 131051, 131052, 131053, 131008, 131009, 131021, 132000,
      132001, 131030, 131062,
    ])('does not retry code %i', (code) => {
      expect(classifyCode(code).retryable).toBe(false);
    });

    it('lets the Meta code decide over a 5xx status', () => {
      expect(classifyCode(100, 500)).toMatchObject({
        retryable: false,
        kind: 'permanent',
      });
    });

    it('retries a retryable Meta code even on a 4xx status', () => {
      expect(classifyCode(131000, 400)).toMatchObject({
        retryable: true,
        kind: 'transient',
      });
    });
  });

  describe('kind by Meta code', () => {
    it.each([
      [190, 'auth'],
      [0, 'auth'],
      [130429, 'rate-limit'],
      [131056, 'rate-limit'],
      [4, 'rate-limit'],
      [80007, 'rate-limit'],
      [131047, 'window-closed'],
      [131000, 'transient'],
      [1, 'transient'],
      [2, 'transient'],
      [131016, 'transient'],
      [131057, 'transient'],
      [100, 'permanent'],
      [131026, 'permanent'],
      [368, 'permanent'],
      [131062, 'permanent'],
    ])('classifies code %i as %s', (code, kind) => {
      expect(classifyCode(code).kind).toBe(kind);
    });
  });

  describe('responses without a Meta code', () => {
    it.each([
      ['an HTML page', '<html><body>Bad Gateway</body></html>'],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['an array', [{ error: { code: 100 } }]],
      ['an error string', { error: 'boom' }],
      ['an error without code', { error: { message: 'Oops' } }],
    ])('retries a 502 whose body is %s', (_label, body) => {
      const error = classifyGraphError({ httpStatus: 502, body });

      expect(error).toMatchObject({
        code: null,
        httpStatus: 502,
        retryable: true,
        kind: 'transient',
      });
    });

    it('does not retry a 400 whose body is not a Meta error', () => {
      const error = classifyGraphError({
        httpStatus: 400,
        body: '<html>Bad Request</html>',
      });

      expect(error).toMatchObject({
        code: null,
        retryable: false,
        kind: 'permanent',
        message: 'WhatsApp Cloud API request failed with HTTP 400',
      });
    });

    it('keeps the message of a Meta error that has no code', () => {
      const error = classifyGraphError({
        httpStatus: 503,
        body: { error: { message: 'Service temporarily unavailable' } },
      });

      expect(error.message).toBe(
        'WhatsApp Cloud API request failed with HTTP 503: Service temporarily unavailable',
      );
    });

    it('retries HTTP 429 as a rate limit', () => {
      expect(classifyGraphError({ httpStatus: 429, body: '' })).toMatchObject({
        retryable: true,
        kind: 'rate-limit',
      });
    });

    it('retries a network failure and names the cause', () => {
      const error = classifyGraphError({
        httpStatus: null,
        body: null,
        networkError: 'connect ECONNREFUSED 157.240.0.1:443',
      });

      expect(error).toMatchObject({
        code: null,
        httpStatus: null,
        retryable: true,
        kind: 'network',
        message:
          'WhatsApp Cloud API request failed: connect ECONNREFUSED 157.240.0.1:443',
      });
    });

    it('treats a failure without any HTTP response as a network error', () => {
      expect(
        classifyGraphError({ httpStatus: null, body: null }),
      ).toMatchObject({
        retryable: true,
        kind: 'network',
        message: 'WhatsApp Cloud API request failed: no response received',
      });
    });
  });

  describe('secrets', () => {
    it('redacts an access token echoed in a network error or Meta text', () => {
      const token = 'EAAGm0PX4ZCpsBAKZAZBsecretTOKEN123';
      const network = classifyGraphError({
        httpStatus: null,
        body: null,
        networkError: `GET https://graph.facebook.com/v24.0/1?access_token=${token} failed; Authorization: Bearer ${token}`,
      });
      const meta = classifyGraphError({
        httpStatus: 400,
        body: {
          error: {
            code: 190,
            message: `Invalid OAuth access token - Bearer ${token}`,
            error_data: { details: `access_token=${token}` },
          },
        },
      });

      for (const error of [network, meta]) {
        expect(error.message).not.toContain(token);
        expect(JSON.stringify(error)).not.toContain(token);
        expect(error.message).toContain('[redacted]');
      }
    });
  });
});

describe('retryDelayMs', () => {
  const transient = classifyCode(131000);
  const pairRateLimit = classifyCode(131056);
  const opts = { baseMs: 1000, maxMs: 60_000 };

  it('doubles the jitter ceiling with each attempt, starting at baseMs', () => {
    const delays = [0, 1, 2, 3].map((attempt) =>
      retryDelayMs(transient, attempt, { ...opts, random: () => 0.5 }),
    );

    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });

  it('uses full jitter: anywhere from zero up to the ceiling', () => {
    expect(retryDelayMs(transient, 2, { ...opts, random: () => 0 })).toBe(0);
    expect(retryDelayMs(transient, 2, { ...opts, random: () => 0.999 })).toBe(
      3996,
    );
  });

  it('never exceeds maxMs however many attempts were made', () => {
    expect(retryDelayMs(transient, 10, { ...opts, random: () => 0.5 })).toBe(
      30_000,
    );
    expect(
      retryDelayMs(transient, 5000, { ...opts, random: () => 0.999 }),
    ).toBe(59_940);
  });

  it('waits about 4^attempt × baseMs for the pair rate limit, never less than half', () => {
    const lowest = [0, 1, 2].map((attempt) =>
      retryDelayMs(pairRateLimit, attempt, { ...opts, random: () => 0 }),
    );
    const highest = [0, 1, 2].map((attempt) =>
      retryDelayMs(pairRateLimit, attempt, { ...opts, random: () => 0.999 }),
    );

    expect(lowest).toEqual([500, 2000, 8000]);
    expect(highest).toEqual([1000, 3998, 15_992]);
  });

  it('caps the pair rate limit delay at maxMs', () => {
    expect(
      retryDelayMs(pairRateLimit, 4, { ...opts, random: () => 0.999 }),
    ).toBe(59_970);
  });

  it('uses Math.random when no random source is given', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.25);
    try {
      expect(retryDelayMs(transient, 1, opts)).toBe(500);
    } finally {
      random.mockRestore();
    }
  });

  it.each([-1, 0.5, Number.NaN])(
    'rejects attempt %p with a RangeError',
    (attempt) => {
      expect(() => retryDelayMs(transient, attempt, opts)).toThrow(RangeError);
    },
  );

  it('rejects negative or infinite bounds with a RangeError', () => {
    expect(() =>
      retryDelayMs(transient, 0, { baseMs: -1, maxMs: 1000 }),
    ).toThrow(RangeError);
    expect(() =>
      retryDelayMs(transient, 0, { baseMs: 1000, maxMs: Infinity }),
    ).toThrow(RangeError);
  });
});
