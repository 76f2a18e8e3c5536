/**
 * Image helpers for the OpenAI mapping: assistant text that carries markdown data-URL images is turned
 * back into Gemini `inlineData` parts, and Gemini image parts are rendered as markdown images.
 *
 * @module
 */

/** A Gemini text or inline-data part produced by {@link extractMarkdownImages}. */
export type TextOrImagePart = { text: string } | { inlineData: { mimeType: string; data: string } };

const MD_IMAGE = /!\[[^\]\n]*\]\(\s*data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]+?)\s*\)/gi;

/**
 * Splits text into parts: each `![alt](data:image/...;base64,...)` becomes an `inlineData` part, the
 * text between them becomes text parts (whitespace-only pieces are dropped). Images with http(s) URLs
 * stay text. Returns `[]` for empty text.
 */
export function extractMarkdownImages(text: string): TextOrImagePart[] {
  const parts: TextOrImagePart[] = [];
  const pushText = (t: string) => {
    if (t.trim()) parts.push({ text: t });
  };
  let last = 0;
  for (const m of text.matchAll(MD_IMAGE)) {
    pushText(text.slice(last, m.index));
    parts.push({ inlineData: { mimeType: m[1].toLowerCase(), data: m[2].replace(/\s+/g, "") } });
    last = m.index + m[0].length;
  }
  pushText(text.slice(last));
  return parts;
}

/** Renders a Gemini `inlineData` image as a markdown image with a data URL (the reverse mapping). */
export function imagePartToMarkdown(inlineData: { mimeType: string; data: string }, alt = "image"): string {
  return `![${alt}](data:${inlineData.mimeType};base64,${inlineData.data})`;
}
