/**
 * A run of digits that reads as a phone number: optional "+", at least 7 digits, possibly split by
 * spaces, dots, dashes or brackets. Runs glued to letters or hyphens (parts of GUIDs, hex error
 * codes such as 0x80040265) are left alone.
 */
const PHONE_LIKE = /(?<![\w-])\+?\(?\d(?:[\d\s().-]{5,}\d)(?![\w-])/g;

/**
 * Masks phone-number-like text in a message we did not write (a Dataverse error echoing the number
 * it refused) before it reaches a rejection reason or a log: all but the last two digits become "*".
 */
export function scrubPhoneNumbers(text: string): string {
  return text.replace(PHONE_LIKE, (match) => {
    const digits = match.replace(/\D/g, '');
    if (digits.length < 7) return match;
    return `${match.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
  });
}
