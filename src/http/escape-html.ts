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
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '"':
      return '&quot;';
    default:
      return '&#39;';
  }
}

/**
 * escapeLogText escapes text for HTML the way iisnode escaped node's log (spec 2.9): `&`, `<`,
 * `>`, `"` and `'` become entities, and the control characters U+0000–U+0008, U+000B–U+000C,
 * U+000E–U+001F and U+0080–U+009F become `[xHH]`. nodehost works on the UTF-8-decoded text
 * (iisnode worked on bytes), so multi-byte characters such as `é` or `€` survive intact.
 */
export function escapeLogText(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let replacement: string | undefined;
    switch (code) {
      case 0x26:
        replacement = '&amp;';
        break;
      case 0x3c:
        replacement = '&lt;';
        break;
      case 0x3e:
        replacement = '&gt;';
        break;
      case 0x22:
        replacement = '&quot;';
        break;
      case 0x27:
        replacement = '&#39;';
        break;
      default:
        if ((code <= 0x1f && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x80 && code <= 0x9f)) {
          replacement = `[x${code.toString(16).toUpperCase().padStart(2, '0')}]`;
        }
    }
    if (replacement !== undefined) {
      out += text.slice(last, i) + replacement;
      last = i + 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}
