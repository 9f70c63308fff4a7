/**
 * Naming characters in messages. A character that cannot be seen (a space, a
 * control character, U+200B pasted from a web page) is named by its code
 * point and Unicode name, so the admin learns what to delete; a visible one is
 * quoted. Pure.
 */

/** Unicode names (or, for C0 controls, their aliases) of the invisible characters people actually paste. */
const NAMES: ReadonlyMap<number, string> = new Map([
  ...[
    'NULL',
    'START OF HEADING',
    'START OF TEXT',
    'END OF TEXT',
    'END OF TRANSMISSION',
    'ENQUIRY',
    'ACKNOWLEDGE',
    'BELL',
    'BACKSPACE',
    'CHARACTER TABULATION',
    'LINE FEED',
    'LINE TABULATION',
    'FORM FEED',
    'CARRIAGE RETURN',
    'SHIFT OUT',
    'SHIFT IN',
    'DATA LINK ESCAPE',
    'DEVICE CONTROL ONE',
    'DEVICE CONTROL TWO',
    'DEVICE CONTROL THREE',
    'DEVICE CONTROL FOUR',
    'NEGATIVE ACKNOWLEDGE',
    'SYNCHRONOUS IDLE',
    'END OF TRANSMISSION BLOCK',
    'CANCEL',
    'END OF MEDIUM',
    'SUBSTITUTE',
    'ESCAPE',
    'INFORMATION SEPARATOR FOUR',
    'INFORMATION SEPARATOR THREE',
    'INFORMATION SEPARATOR TWO',
    'INFORMATION SEPARATOR ONE',
    'SPACE',
  ].map((name, code): [number, string] => [code, name]),
  [0x7f, 'DELETE'],
  [0xa0, 'NO-BREAK SPACE'],
  [0xad, 'SOFT HYPHEN'],
  [0x34f, 'COMBINING GRAPHEME JOINER'],
  [0x61c, 'ARABIC LETTER MARK'],
  [0x1680, 'OGHAM SPACE MARK'],
  [0x180e, 'MONGOLIAN VOWEL SEPARATOR'],
  [0x2000, 'EN QUAD'],
  [0x2001, 'EM QUAD'],
  [0x2002, 'EN SPACE'],
  [0x2003, 'EM SPACE'],
  [0x2004, 'THREE-PER-EM SPACE'],
  [0x2005, 'FOUR-PER-EM SPACE'],
  [0x2006, 'SIX-PER-EM SPACE'],
  [0x2007, 'FIGURE SPACE'],
  [0x2008, 'PUNCTUATION SPACE'],
  [0x2009, 'THIN SPACE'],
  [0x200a, 'HAIR SPACE'],
  [0x200b, 'ZERO WIDTH SPACE'],
  [0x200c, 'ZERO WIDTH NON-JOINER'],
  [0x200d, 'ZERO WIDTH JOINER'],
  [0x200e, 'LEFT-TO-RIGHT MARK'],
  [0x200f, 'RIGHT-TO-LEFT MARK'],
  [0x2028, 'LINE SEPARATOR'],
  [0x2029, 'PARAGRAPH SEPARATOR'],
  [0x202a, 'LEFT-TO-RIGHT EMBEDDING'],
  [0x202b, 'RIGHT-TO-LEFT EMBEDDING'],
  [0x202c, 'POP DIRECTIONAL FORMATTING'],
  [0x202d, 'LEFT-TO-RIGHT OVERRIDE'],
  [0x202e, 'RIGHT-TO-LEFT OVERRIDE'],
  [0x202f, 'NARROW NO-BREAK SPACE'],
  [0x205f, 'MEDIUM MATHEMATICAL SPACE'],
  [0x2060, 'WORD JOINER'],
  [0x2061, 'FUNCTION APPLICATION'],
  [0x2062, 'INVISIBLE TIMES'],
  [0x2063, 'INVISIBLE SEPARATOR'],
  [0x2064, 'INVISIBLE PLUS'],
  [0x2066, 'LEFT-TO-RIGHT ISOLATE'],
  [0x2067, 'RIGHT-TO-LEFT ISOLATE'],
  [0x2068, 'FIRST STRONG ISOLATE'],
  [0x2069, 'POP DIRECTIONAL ISOLATE'],
  [0x3000, 'IDEOGRAPHIC SPACE'],
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE'],
]);

/** What an unnamed invisible character is, by its general category. */
const KINDS: readonly [RegExp, string][] = [
  [/^\p{Cc}$/u, 'a control character'],
  [/^\p{Cf}$/u, 'an invisible formatting character'],
  [/^\p{Z}$/u, 'a space'],
  [/^\p{Co}$/u, 'a private-use character'],
  [/^\p{Cs}$/u, 'half of a UTF-16 surrogate pair'],
  [/^\p{Cn}$/u, 'an unassigned code point'],
  [/^\p{M}$/u, 'a combining mark'],
];

/** Characters that print as nothing, as blank, or only as a change to their neighbour. */
const INVISIBLE = /[\p{C}\p{Z}\p{M}]/u;

/** "U+00E9" */
export function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * One character as a message should show it: `'é' (U+00E9)` when it can be
 * seen, `U+200B ZERO WIDTH SPACE` or `U+0085 (a control character)` when not.
 */
export function describeCharacter(char: string): string {
  const name = NAMES.get(char.codePointAt(0)!);
  if (name !== undefined) return `${codePoint(char)} ${name}`;
  if (!INVISIBLE.test(char)) return `'${char}' (${codePoint(char)})`;
  const kind = KINDS.find(([category]) => category.test(char))?.[1] ?? 'an invisible character';
  return `${codePoint(char)} (${kind})`;
}

/** The distinct characters of `text` that `allowed` rejects, described, at most `max` then "and N more". */
export function describeDisallowed(text: string, allowed: (char: string) => boolean, max = 3): string {
  const found = [...new Set([...text].filter((char) => !allowed(char)))];
  const shown = found.slice(0, max).map(describeCharacter);
  if (found.length > max) return `${shown.join(', ')} and ${found.length - max} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}

/**
 * `text` with every invisible character except the plain space written as a
 * JSON-style escape (\u200b, \u{e0001}), so that a quoted value shows what
 * is in it. Control characters are left to JSON.stringify, which escapes them.
 */
export function escapeInvisible(text: string): string {
  return text.replace(/[\p{Cf}\p{Co}\p{Cn}\p{Z}\u0080-\u009f]/gu, (char) => {
    if (char === ' ') return char;
    const code = char.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
