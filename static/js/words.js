/**
 * How the pages say things in words, in one place.
 */

/**
 * "a 7", "an 8": the digit with its article, as it is read aloud.
 * @param {number} digit
 * @returns {string}
 */
export function aDigit(digit) {
  return `${digit === 8 ? "an" : "a"} ${digit}`;
}
