// A cold listing decodes summary files in the pieces git's pipe delivered them in (never copied into one buffer), and
// cuts the lines of a piece of ASCII bytes from one decoded string (issue 17). It must give what decoding line by line
// from the whole file's bytes gives, for any bytes: ASCII or not, bad lines, tombstones, empty lines, no final
// newline, cut anywhere.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeSummaryBuffer } from '../../src/format/summaries.js'

/** decodeSummaryBuffer as it was: one Buffer indexOf and one UTF-8 toString per line. */
function perLine(buf: Buffer) {
  const rows: Array<{ id: string; start: number; end: number; raw: unknown }> = []
  let bad = 0
  for (let at = 0; at < buf.length;) {
    let nl = buf.indexOf(10, at)
    if (nl < 0) nl = buf.length
    if (nl > at) {
      try {
        const raw = JSON.parse(buf.toString('utf8', at, nl))
        if (typeof raw?.id !== 'string') throw new Error('no id')
        rows.push({ id: raw.id, start: at, end: nl, raw: raw.removed === true ? null : raw })
      } catch {
        bad++
      }
    }
    at = nl + 1
  }
  return { rows, bad }
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('é', '\ufffd', 'a\nb', '日本', '"', '\\'))
const line = fc.oneof(
  fc.record({ id: text, name: text, startTime: fc.integer(), params: fc.dictionary(text, fc.oneof(text, fc.double())), tags: fc.dictionary(text, text) }).map((o) => JSON.stringify(o)),
  text.map((id) => JSON.stringify({ id, removed: true })),
  fc.constantFrom('', '{', '{"id":1}', 'null', '[]', '{"id":"x"', '{"id":"\\u00e9"}'),
  text,
)
const file = fc.tuple(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.uint8Array({ maxLength: 4 })).map(([lines, finalNewline, junk]) => {
  const b = Buffer.from(lines.join('\n') + (finalNewline ? '\n' : ''))
  return junk.length ? Buffer.concat([b, Buffer.from(junk)]) : b // raw bytes: invalid UTF-8 at the end
})

describe('decodeSummaryBuffer', () => {
  it('decodeSummaryBuffer gives what decoding each line from its bytes gives, whole or in pieces', () => {
    // pieces as git's pipe delivers them: cut anywhere, inside a line, a newline or a multi-byte character
    fc.assert(fc.property(file, fc.array(fc.nat(), { maxLength: 6 }), (buf, cuts) => {
      const want = perLine(buf)
      expect(decodeSummaryBuffer(buf)).toEqual(want)
      const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
      const pieces = [0, ...at].map((from, i) => buf.subarray(from, [...at, buf.length][i]))
      expect(decodeSummaryBuffer(pieces)).toEqual(want)
    }), { numRuns: 3000 })
  })

})
