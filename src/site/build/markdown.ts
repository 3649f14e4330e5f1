/**
 * A small, safe Markdown subset for run descriptions: everything is escaped first, then paragraphs, headings,
 * lists, code, emphasis and http(s)/mailto links are recognised. No raw HTML ever passes through.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const SAFE_URL = /^(https?:\/\/|mailto:)[^\s]*$/i

function inline(text: string): string {
  // Code spans are cut out first so nothing inside them is interpreted.
  const parts = text.split(/(`[^`]+`)/)
  return parts
    .map((p) => {
      if (p.length > 2 && p.startsWith('`') && p.endsWith('`')) return `<code>${escapeHtml(p.slice(1, -1))}</code>`
      let out = ''
      let last = 0
      const link = /\[([^\]]+)\]\(([^)\s]+)\)/g
      for (let m; (m = link.exec(p)); ) {
        out += emphasis(escapeHtml(p.slice(last, m.index)))
        const url = m[2]!
        out += SAFE_URL.test(url)
          ? `<a href="${escapeHtml(url)}" rel="nofollow noopener noreferrer">${emphasis(escapeHtml(m[1]!))}</a>`
          : emphasis(escapeHtml(m[0]))
        last = m.index + m[0].length
      }
      return out + emphasis(escapeHtml(p.slice(last)))
    })
    .join('')
}

function emphasis(escaped: string): string {
  return escaped.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
}

/**
 * Renders the subset to HTML that is safe to insert as-is.
 * @example renderMarkdown('**bold** and [docs](https://example.com)')
 */
export function renderMarkdown(src: string): string {
  const lines = src.replace(/\r\n?/g, '\n').split('\n')
  const out: string[] = []
  let para: string[] = []
  let list: { tag: 'ul' | 'ol'; items: string[] } | null = null
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`)
    para = []
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${list.tag}>`)
    list = null
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (/^```/.test(line)) {
      flush()
      const code: string[] = []
      for (i++; i < lines.length && !/^```/.test(lines[i]!); i++) code.push(lines[i]!)
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`)
      continue
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line)
    if (h) { flush(); const lvl = Math.min(6, h[1]!.length + 2); out.push(`<h${lvl}>${inline(h[2]!)}</h${lvl}>`); continue }
    const li = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line)
    if (li) {
      const tag = /\d/.test(li[1]!) ? 'ol' : 'ul'
      if (para.length || (list && list.tag !== tag)) flush()
      list ??= { tag, items: [] }
      list.items.push(li[2]!)
      continue
    }
    if (!line.trim()) { flush(); continue }
    if (list) flush()
    para.push(line.trim())
  }
  flush()
  return out.join('\n')
}
