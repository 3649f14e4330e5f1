/**
 * Command lines as `labbook run` records them in `source.command` (POSIX shell quoting), and back to argv for
 * `labbook reproduce`. The pair lives here so the two never disagree.
 */

/** One argument, quoted for a POSIX shell only when it needs it. @example shellQuote("it's") // 'it'\''s' */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * Splits a command line into words the way a POSIX shell does for quoting (single quotes, double quotes, backslash);
 * no expansion. Undefined when the line has an unclosed quote or uses shell syntax (`|`, `;`, `&`, `<`, `>`, `$`,
 * backquote) that needs a real shell.
 * @example shellWords("python train.py --name 'a b'") // ['python', 'train.py', '--name', 'a b']
 */
export function shellWords(line: string): string[] | undefined {
  const words: string[] = []
  let cur = ''
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) return undefined
      cur += line.slice(i + 1, end)
      i = end
      inWord = true
    } else if (c === '"') {
      let j = i + 1
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1]!)) j++
        else if (line[j] === '$' || line[j] === '`') return undefined
        cur += line[j]
      }
      if (j >= line.length) return undefined
      i = j
      inWord = true
    } else if (c === '\\') {
      if (i + 1 >= line.length) return undefined
      cur += line[++i]
      inWord = true
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else if ('|;&<>$`()'.includes(c)) {
      return undefined
    } else {
      cur += c
      inWord = true
    }
  }
  if (inWord) words.push(cur)
  return words
}
