/** Runtime-neutral UTF-8 helpers (no Buffer). */

/** The UTF-8 size of `text` as TextEncoder encodes it (a lone surrogate takes 3 bytes, as U+FFFD). */
export function utf8Length(text: string): number {
  let size = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) size += 1;
    else if (unit < 0x800) size += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size += 4;
      i++;
    } else size += 3;
  }
  return size;
}
