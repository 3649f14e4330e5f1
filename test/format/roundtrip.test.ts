import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeSummaries, encodeSummaryLine, encodeTombstone, summaryLineId } from '../../src/format/summaries.js'
import { decodeChunk, decodeChunkColumns, decodePointRow, encodePoint } from '../../src/format/jsonl.js'
import { checkRoot, decodeRun, encodeRun, encodeRunFast, encodeRunLine, encodeRunYaml } from '../../src/format/yaml.js'
import type { RunSummary } from '../../src/model/run.js'

const base = (): RunSummary => ({
  id: '01abc', name: 'r', experiment: '0', status: 'FINISHED', lifecycle: 'active', startTime: 1, endTime: 2,
  source: { commit: 'a'.repeat(40), dirty: false }, params: {}, tags: {}, metrics: {},
})

const TRICKY = ['0.10', 'yes', 'no', 'null', '~', '', ' ', 'true', 'False', '1e3', '0x1F', '0o17', '.inf', '-.nan', '12:30', '2026-01-01',
  '- item', '? q', ': v', '#comment', 'a # b', "'quoted'", '"dq"', '{a: 1}', '[1, 2]', '&anchor', '*alias', '!tag', '%dir', '@at', '`tick`',
  'line1\nline2', 'trailing\n', 'two trailing\n\n', '\nleading', '  spaced  ', 'tab\there', 'cr\r\nlf', '🧪 emoji 🚀', 'naïve ünïcode',
  'x'.repeat(6000), '---', '...', '|', '>', 'a: b: c', '\u0000nul', '\u2028sep', '\ufeffbom']

const line1 = () => encodeRunLine({ ...base(), description: 'a\nb' })!

describe('run.yaml', () => {
  it('reads back every tricky param and tag exactly as written', () => {
    const run = base()
    TRICKY.forEach((v, i) => { run.params[`p${i}`] = v; run.tags[`t${i}`] = v })
    Object.assign(run.params, { int: 100, float: 0.1, neg: -3.5, big: 1e21, tiny: 5e-324, t: true, f: false, nan: NaN, inf: Infinity, ninf: -Infinity })
    const back = decodeRun(encodeRun(run))
    expect(back.params).toEqual(run.params)
    expect(back.tags).toEqual(run.tags)
    expect(typeof back.params.int).toBe('number')
    expect(back.params.p0).toBe('0.10')
  })

  it('round-trips arbitrary strings, numbers and booleans (property)', () => {
    const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.double(), fc.integer(), fc.boolean())
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-z][\w./ -]{0,20}$/), value, { maxKeys: 8 }), fc.string({ maxLength: 200 }), (params, desc) => {
      const run = { ...base(), params, description: desc || undefined }
      const back = decodeRun(encodeRun(run))
      expect(back.params).toEqual(params)
      expect(back.description).toEqual(run.description)
    }), { numRuns: 500 })
  })

  it('the journal\'s one-line copy (encodeRunLine) reads back as the YAML does; non-finite numbers fall back to YAML', () => {
    const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.double(), fc.integer(), fc.boolean())
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-z][\w./ -]{0,20}$/), value, { maxKeys: 8 }), fc.string({ maxLength: 200 }), (params, desc) => {
      const run = { ...base(), params, tags: { t: desc }, description: desc || undefined,
        datasets: [{ name: 'd', digest: 'x1', sourceType: 'local', source: desc, context: 'training' }] }
      const line = encodeRunLine(run)
      if (Object.values(params).some((v) => typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))) expect(line).toBeUndefined()
      else expect(decodeRun(line!)).toEqual(decodeRun(encodeRun(run)))
    }), { numRuns: 300 })
    expect(line1()).not.toContain('\n')
  })

  it('is byte-stable: the same run gives the same text whatever the key order', () => {
    const a = { ...base(), params: { b: 1, a: 2 }, tags: { y: '1', x: '2' } }
    const b = { ...base(), tags: { x: '2', y: '1' }, params: { a: 2, b: 1 } }
    expect(encodeRun(a)).toBe(encodeRun(b))
    expect(encodeRun(a)).toMatchInlineSnapshot(`
      "id: 01abc
      name: r
      experiment: "0"
      status: FINISHED
      lifecycle: active
      startTime: 1
      endTime: 2
      source:
        commit: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        dirty: false
      params:
        a: 2
        b: 1
      tags:
        x: "2"
        y: "1"
      metrics: {}
      "
    `)
  })

  it('the fast writer gives the yaml package\'s bytes, and takes the common runs (differential property)', () => {
    // Strings of plain-safe characters (the common case), and strings of any mix with YAML's indicators, quotes,
    // newlines and non-ASCII, numbers spelled as text: both writers' paths are taken. Numbers of every kind.
    const plainText = fc.stringMatching(/^[a-zA-Z0-9_./](?:[a-zA-Z0-9_./@+=~()<>%$^;*&!? -]{0,10}[a-zA-Z0-9_./@+=~()<>%$^;*&!?-])?$/)
    const anyText = fc.oneof(plainText,
      fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', '_', '.', '/', '@', '+', '-', ' ', ':', '#', ',', '{', '"', "'", 'e', 'x', 'o', '\n', 'ü'), maxLength: 10 }),
      fc.constantFrom(...TRICKY, 'true', 'NULL', 'Null', 'null', '1_000', '0b101', 'on', 'off', '1e5', '12e', '0x', '0o8', 'a-', 'a @b', 'a/', 'x '.repeat(600),
        '/usr/bin/python train.py --lr=0.1', './run.sh', '.', '..', '...', '.a', '.5', '.inf', '~', '~x', '-x', '--', '-', '- x', 'a ?b', 'a !b', 'a &b', 'a *b', 'a%', 'x=1;y=2'),
      fc.double().map(String), fc.integer().map(String))
    const num = fc.oneof({ arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 8 }, fc.double(), fc.constant(-0))
    const summary = fc.record({ value: num, step: fc.integer(), timestamp: fc.nat(), min: num, max: num, count: fc.nat() })
    const runOf = (text: fc.Arbitrary<string>) => fc.record({
      params: fc.dictionary(text, fc.oneof(text, num, fc.integer(), fc.boolean()), { maxKeys: 5 }), tags: fc.dictionary(text, text, { maxKeys: 4 }),
      metrics: fc.dictionary(text, summary, { maxKeys: 3 }), name: text, experiment: fc.oneof(text, fc.nat().map(String)), desc: fc.option(text),
    }).map(({ params, tags, metrics, name, experiment, desc }): RunSummary => ({ ...base(), name, experiment, params, tags, metrics, user: 'u', host: 'h',
      source: { commit: 'ab'.repeat(20), branch: name, dirty: true }, ...(desc === null ? {} : { description: desc }),
      datasets: [{ name, digest: 'd1', sourceType: 'local', source: desc ?? 'x', context: 'training' }] }))
    let fast = 0
    fc.assert(fc.property(fc.oneof(runOf(plainText), runOf(anyText)), (run) => {
      const reference = encodeRunYaml(run)
      expect(encodeRun(run)).toBe(reference)
      const quick = encodeRunFast(run)
      if (quick !== undefined) {
        expect(quick).toBe(reference)
        fast++
      }
    }), { numRuns: 400 })
    // not vacuous: a good share of these runs goes through the fast writer
    expect(fast).toBeGreaterThan(60)
    const common = { ...base(), params: { lr: 0.01, depth: 6, optimizer: 'adam' }, tags: { stage: 'bench' },
      metrics: { accuracy: { value: 0.9, step: 0, timestamp: 1, min: 0.9, max: 0.9, count: 1 } } }
    expect(encodeRunFast(common)).toBe(encodeRunYaml(common))
  })

  it('refuses a newer major format instead of guessing', () => {
    expect(checkRoot('format: 1\n')).toBe(1)
    expect(checkRoot('format: 2\n')).toBe(2)
    expect(() => checkRoot('format: 3\n')).toThrow(expect.objectContaining({ code: 'FORMAT_TOO_NEW' }))
    expect(() => decodeRun('id: x\nstatus: WEIRD\n')).toThrow(expect.objectContaining({ code: 'CORRUPT_DATA' }))
  })
})

describe('run summary lines (format 2)', () => {
  it('round-trip a run exactly, non-finite numbers and tombstones included; same run, same bytes', () => {
    const run: RunSummary = {
      id: '01m8abc', name: 'n "q"', experiment: '3', status: 'FAILED', lifecycle: 'deleted', startTime: 5, endTime: 9, user: 'u', host: 'h',
      description: 'd', parent: 'p1', source: { commit: 'a'.repeat(40), dirty: true }, params: { z: 1.5, a: 'x', b: true }, tags: { t: 'v' },
      metrics: { loss: { value: NaN, step: 3, timestamp: 7, min: -Infinity, max: Infinity, count: 4 } },
    }
    const line = encodeSummaryLine(run)
    expect(line.startsWith('{"id":"01m8abc",')).toBe(true)
    expect(summaryLineId(line)).toBe('01m8abc')
    const back = decodeSummaries(line + encodeTombstone('gone')).runs
    expect(back.get('01m8abc')).toEqual(run)
    expect(back.get('gone')).toBeNull()
    expect(encodeSummaryLine({ ...run, params: { b: true, a: 'x', z: 1.5 } })).toBe(line)
  })

  it('read a whole file in one parse, and keep every good line when one is bad or split in two', () => {
    const mk = (id: string, acc: number): RunSummary => ({
      id, name: id, experiment: '1', status: 'FINISHED', lifecycle: 'active', startTime: 1, source: {}, params: { k: [1, 2].length }, tags: {},
      metrics: { acc: { value: acc, step: 0, timestamp: 1, min: acc, max: acc, count: 1 } },
    })
    const good = ['a', 'b', 'c'].map((id, i) => encodeSummaryLine(mk(id, i / 10)))
    const all = decodeSummaries(good.join(''))
    expect(all.bad).toBe(0)
    expect([...all.runs.keys()]).toEqual(['a', 'b', 'c'])
    expect(all.runs.get('c')).toEqual(mk('c', 0.2))
    // a damaged middle line: the others survive, it is counted
    const bad = decodeSummaries(good[0] + '{"id":"x", oops\n' + good[2])
    expect([...bad.runs.keys()]).toEqual(['a', 'c'])
    expect(bad.bad).toBe(1)
    // a line split in two whose halves would join into one valid row under a naive whole-file parse
    const split = decodeSummaries(good[0] + '{"id":"s","metrics":{"acc":[1\n2]}}\n')
    expect([...split.runs.keys()]).toEqual(['a'])
    expect(split.bad).toBe(2)
  })
})

describe('metric chunks', () => {
  it('spell NaN and ±Infinity as strings and read them back as numbers', () => {
    const text = encodePoint('a', NaN, 0, 1) + encodePoint('a', Infinity, 1, 2) + encodePoint('a/b c', -Infinity, 2, 3) + encodePoint('a', -0.5, 3, 4)
    expect(text.split('\n')[0]).toBe('{"k":"a","v":"NaN","s":0,"t":1}')
    const back = decodeChunk(text)
    expect(back.map((p) => p.value)).toEqual([NaN, Infinity, -Infinity, -0.5])
    expect(back[2]!.key).toBe('a/b c')
  })

  it('reports a damaged line with its number', () => {
    expect(() => decodeChunk('{"k":"a","v":1,"s":0,"t":1}\n{oops\n', 'x.jsonl')).toThrow(/x.jsonl:2/)
  })

  it('the byte scanner reads every number as JSON.parse does, in any spelling JSON allows', () => {
    // numbers as other writers spell them: exponents, 16-17 digits, long fractions, negative zero, big integers
    const num = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => v.toExponential()),
      fc.integer().map(String), fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String), fc.double({ min: -1, max: 1, noNaN: true }).map((v) => v.toFixed(20)),
      fc.constantFrom('-0', '0.0', '1E5', '1e-7', '0.000000000000000000000001', '123456789012345.6', '9007199254740993', '0.1', '-0.30000000000000004'))
    const line = fc.tuple(fc.string({ maxLength: 12 }), num, num, num, fc.constantFrom('canonical', 'spaced', 'reordered', 'crlf')).map(([k, v, s, t, how]) => {
      const key = JSON.stringify(k)
      return how === 'canonical' ? `{"k":${key},"v":${v},"s":${s},"t":${t}}` : how === 'spaced' ? `{ "k": ${key}, "v": ${v}, "s": ${s}, "t": ${t} }`
        : how === 'reordered' ? `{"t":${t},"s":${s},"v":${v},"k":${key}}` : `{"k":${key},"v":${v},"s":${s},"t":${t}}\r`
    })
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (lines) => {
      const expected = lines.map((l) => decodePointRow(JSON.parse(l))!)
      const c = decodeChunkColumns(Buffer.from(lines.join('\n') + '\n'))
      const got = Array.from(c.value, (_, i) => ({ key: c.keys[c.key[i]!]!, value: c.value[i]!, step: c.step[i]!, timestamp: c.time[i]! }))
      expect(got).toEqual(expected)
      for (let i = 0; i < got.length; i++) for (const f of ['value', 'step', 'timestamp'] as const) expect(Object.is(got[i]![f], expected[i]![f])).toBe(true)
    }), { numRuns: 300 })
  })

  it('the byte scanner refuses what JSON refuses, naming the line', () => {
    for (const bad of ['01', '1.', '.5', '+1', '1e', '--1', '0x10', '1_000', 'NaN', '"nan"', '1.2.3']) {
      const text = `{"k":"a","v":1,"s":0,"t":1}\n{"k":"a","v":${bad},"s":1,"t":2}\n`
      expect(() => decodeChunk(text, 'c.jsonl'), bad).toThrow(/c.jsonl:2/)
    }
    // an escaped key reads (through JSON.parse); a raw control character is refused, as JSON does
    expect(decodeChunk('{"k":"a\\u0001\\"","v":1,"s":0,"t":1}\n{"k":"a\\u0001\\"","v":2,"s":1,"t":1}').map((p) => p.key)).toEqual(['a\u0001"', 'a\u0001"'])
    expect(() => decodeChunk('{"k":"a\u0001","v":1,"s":0,"t":1}', 'r.jsonl')).toThrow(/r.jsonl:1/)
    expect(() => decodeChunk('{"k":"a","v":1,"s":0,"t":1}\n\n{"k":"a","v":1,"s":1,"t":1}', 'e.jsonl')).toThrow(/e.jsonl:2/)
    expect(decodeChunk(' \n')).toEqual([])
  })
})

describe('the fast YAML reader', () => {
  it('agrees with the yaml package on random run documents, or steps aside', async () => {
    const { parse, stringify } = await import('yaml')
    const { fastParseYaml } = await import('../../src/format/fast-yaml.js')
    const scalar = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...TRICKY.slice(0, 40)), fc.double(), fc.integer(), fc.boolean(), fc.constant(null))
    const doc = fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('a:b', '-x', 'k k', '0.1', 'true')), fc.oneof(scalar, fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), scalar, { maxKeys: 4 })), { maxKeys: 6 })
    let fast = 0
    fc.assert(fc.property(doc, fc.boolean(), (value, quoted) => {
      const text = stringify(value, { lineWidth: 0, ...(quoted ? { defaultStringType: 'QUOTE_DOUBLE' as const } : {}) })
      const expected = parse(text)
      const got = fastParseYaml(text)
      if (got !== undefined) {
        fast++
        expect(got).toEqual(expected)
      }
    }), { numRuns: 3000 })
    expect(fast).toBeGreaterThan(1000) // it does take most documents
  })

  it('reads metric summaries (flow maps of any double) exactly as yaml does', async () => {
    const { parse } = await import('yaml')
    const { fastParseYaml } = await import('../../src/format/fast-yaml.js')
    const num = fc.oneof({ arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 8 }, fc.double())
    const summary = fc.record({ value: num, step: fc.integer(), timestamp: fc.nat(), min: num, max: num, count: fc.nat() })
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-z][\w./ -]{0,12}$/), summary, { maxKeys: 5 }), (metrics) => {
      const text = encodeRun({ ...base(), metrics })
      const fast = fastParseYaml(text)
      expect(fast).toBeDefined()
      expect(fast).toEqual(parse(text))
      expect(decodeRun(text).metrics).toEqual(metrics)
    }), { numRuns: 1000 })
  })

  it('reads every document encodeRun writes, quickly', () => {
    const run = base()
    TRICKY.forEach((v, i) => { run.params[`p${i}`] = v })
    run.metrics.loss = { value: NaN, step: 1, timestamp: 2, min: -Infinity, max: Infinity, count: 3 }
    const text = encodeRun(run)
    expect(decodeRun(text)).toEqual(run)
  })
})
