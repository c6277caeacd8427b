/**
 * escapeHtml makes `text` safe inside HTML text and inside a quoted attribute value: `&`, `<`,
 * `>`, `"` and `'` become `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`; nothing else changes.
 * These are the entities .NET's HttpUtility.HtmlEncode writes for those characters, so URL
 * Rewrite's HtmlEncode function uses it too. It does not make text safe inside a script,
 * a style or an unquoted attribute. Returns `text` itself when nothing needs escaping.
 */
export function escapeHtml(text: string): string {
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIAL_ALL, escapeHtmlChar) : text;
}

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIAL_ALL = /[&<>"']/g;

function escapeHtmlChar(ch: string): string {
  switch (ch) {
    case '&': return '&amp;';
    case '<': return '&lt;';
    case '>': return '&gt;';
    case '"': return '&quot;';
    default: return '&#39;';
  }
}
