import { findHandoffKeyword } from './handoff-keywords';

describe('findHandoffKeyword', () => {
  const keywords = ['human', 'talk to a person', 'agente'];

  it('finds a keyword as a whole word, ignoring case', () => {
    expect(findHandoffKeyword('Can I speak to a HUMAN please?', keywords)).toBe(
      'human',
    );
    expect(findHandoffKeyword('I want to talk to a person.', keywords)).toBe(
      'talk to a person',
    );
    expect(findHandoffKeyword('¿Hay un agente?', keywords)).toBe('agente');
  });

  it('ignores a keyword inside another word', () => {
    expect(findHandoffKeyword('This is inhuman pricing', keywords)).toBeNull();
    expect(findHandoffKeyword('humanity', keywords)).toBeNull();
  });

  it('finds nothing without keywords', () => {
    expect(findHandoffKeyword('human', [])).toBeNull();
  });

  it('treats regular-expression characters in keywords literally', () => {
    expect(findHandoffKeyword('need help (now)', ['(now)'])).toBe('(now)');
    expect(findHandoffKeyword('need help now', ['(now)'])).toBeNull();
  });
});
