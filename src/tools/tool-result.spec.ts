import { capToolText } from './tool-result';

describe('capToolText', () => {
  it('leaves a text within the limit alone', () => {
    expect(capToolText('short', 10)).toBe('short');
  });

  it('cuts a longer text to the limit, saying how much was cut', () => {
    const text = 'a'.repeat(1000);
    const capped = capToolText(text, 100);
    expect(capped.length).toBeLessThanOrEqual(100);
    const kept = capped.indexOf('\n');
    expect(capped.slice(kept)).toBe(`\n[… ${1000 - kept} more characters cut]`);
  });
});
