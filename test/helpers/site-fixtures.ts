/** Deterministic fake experiments for the site: an in-memory source (page tests, benchmarks) and the payloads the safety tests use. */
import type { Experiment } from '../../src/model/experiment.js'
import type { MetricPoint, RunSummary } from '../../src/model/run.js'
import { summarize } from '../../src/model/metric.js'
import { MemorySource, type MemoryRun } from '../../src/site/build/memory-source.js'

/** Strings that must never execute or render as markup anywhere in the site. */
export const EVIL = {
  script: '<script>window.__pwned=1;alert(1)</script>',
  img: '<img src=x onerror="window.__pwned=1;alert(1)">',
  js: 'javascript:window.__pwned=1;alert(1)',
  svg: '"><svg onload="window.__pwned=1;alert(1)">',
  tpl: '{{constructor.constructor("window.__pwned=1")()}}',
}
export const EVIL_ALL = Object.values(EVIL).join(' ')

export interface FakeOptions {
  experiments?: number; runs?: number; steps?: number; metrics?: string[]; seed?: number; start?: number
  /** Each run's points are made when the source asks for them (from a seed of their own), not held in memory: benches of 10,000+ runs. */
  lazy?: boolean
}

function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32
}

const ALPHA = '0123456789abcdefghjkmnpqrstvwxyz'
export function fakeId(n: number): string {
  let t = 1_700_000_000_000 + n * 1000, s = ''
  for (let i = 0; i < 10; i++) { s = ALPHA[t % 32] + s; t = Math.floor(t / 32) }
  let r = n * 7919 + 12345, tail = ''
  for (let i = 0; i < 16; i++) { tail += ALPHA[r % 32]; r = Math.floor(r / 32) + i * 31 }
  return s + tail
}

/** Runs with params lr/batch/model/optimizer, metrics loss/acc/val_loss over `steps` steps, 1 in 10 a child of the run before. */
export function fakeRuns(o: FakeOptions = {}): { experiments: Experiment[]; runs: MemoryRun[] } {
  const nExp = o.experiments ?? 2, nRuns = o.runs ?? 12, steps = o.steps ?? 200
  const metrics = o.metrics ?? ['loss', 'acc', 'val_loss']
  const rand = rng(o.seed ?? 42)
  const start = o.start ?? 1_700_000_000_000
  const experiments: Experiment[] = Array.from({ length: nExp }, (_, i) => ({
    id: String(i + 1), name: i === 0 ? 'mnist-cnn' : `experiment-${i + 1}`, lifecycle: 'active', createdAt: start, tags: {},
  }))
  const commits = Array.from({ length: 6 }, (_, i) => (0xabc0000 + i * 7777).toString(16).padEnd(40, String(i)))
  const runs: MemoryRun[] = []
  for (let i = 0; i < nRuns; i++) {
    const id = fakeId(i)
    const lr = [0.1, 0.03, 0.01, 0.003, 0.001][i % 5]!
    const batch = [32, 64, 128][i % 3]!
    const t0 = start + i * 3_600_000
    const quality = 0.5 + 0.4 * rand() + (lr === 0.01 ? 0.05 : 0)
    const points = (r: () => number) => {
      const history: MetricPoint[] = []
      for (let s = 0; s < steps; s++) {
        const p = (s + 1) / steps
        const ts = t0 + s * 1000
        for (const m of metrics) {
          const noise = (r() - 0.5) * 0.05
          const v = m.includes('acc') ? quality * (1 - Math.exp(-5 * p)) + noise : (1 - quality) + Math.exp(-4 * p) + noise
          history.push({ key: m, value: v, step: s, timestamp: ts })
        }
      }
      return history
    }
    const history = o.lazy ? points(rng((o.seed ?? 42) * 7919 + i)) : points(rand)
    const summary: RunSummary = {
      id, name: `run-${i}`, experiment: experiments[i % nExp]!.id, status: i % 11 === 5 ? 'FAILED' : 'FINISHED', lifecycle: 'active',
      startTime: t0, endTime: t0 + steps * 1000, user: 'ada', host: 'gpu-1',
      parent: i % 10 === 9 ? fakeId(i - 1) : undefined,
      source: { commit: commits[Math.floor(i / Math.max(1, nRuns / 6))] ?? commits[5], branch: 'main', dirty: i % 7 === 3, remote: 'git@github.com:acme/vision.git' },
      params: { lr, batch_size: batch, model: i % 2 ? 'cnn' : 'mlp', optimizer: 'adam' },
      tags: { owner: 'ada', stage: i % 4 ? 'dev' : 'prod' },
      metrics: summarize(history),
    }
    if (summary.parent && runs.find((r) => r.summary.id === summary.parent)?.summary.experiment !== summary.experiment) summary.parent = undefined
    const seed = (o.seed ?? 42) * 7919 + i
    runs.push({ summary, history: o.lazy ? () => points(rng(seed)) : history, artifacts: i < 3 ? {
      'notes/readme.md': `# Run ${i}\nlr=${lr}\n`,
      'config.json': JSON.stringify({ lr, batch }, null, 2),
      'labbook/output.log': `epoch 1 loss 0.9\nepoch 2 loss 0.5\n`,
    } : undefined })
  }
  return { experiments, runs }
}

export function fakeSource(o: FakeOptions = {}): MemorySource {
  const { experiments, runs } = fakeRuns(o)
  return new MemorySource(experiments, runs)
}

/** A run whose every field carries the payloads. */
export function evilRun(experiment: string, n = 999): MemoryRun {
  const id = fakeId(n)
  const history: MetricPoint[] = Array.from({ length: 20 }, (_, s) => ({ key: 'loss', value: 1 / (s + 1), step: s, timestamp: 1_700_000_000_000 + s }))
  return {
    summary: {
      id, name: EVIL_ALL, experiment, status: 'FINISHED', lifecycle: 'active', startTime: 1_700_000_000_000, endTime: 1_700_000_100_000,
      user: EVIL.img, host: EVIL.svg,
      description: `${EVIL_ALL}\n\n[click](${EVIL.js}) and [ok](https://example.com/"onmouseover=alert(1)) **${EVIL.script}**`,
      source: { commit: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef', branch: EVIL.svg, remote: EVIL.js, command: EVIL_ALL, dirty: true },
      params: { [`p_${'x'}`]: EVIL_ALL, model: EVIL.script, url: EVIL.js },
      tags: { note: EVIL_ALL, link: EVIL.js, tpl: EVIL.tpl },
      metrics: summarize(history),
    },
    history,
    artifacts: {
      'evil.html': `<html><body>${EVIL_ALL}</body></html>`,
      'evil.svg': `<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"><script>window.__pwned=1</script></svg>`,
      [`notes/<img src=x onerror=alert(1)>.txt`]: EVIL_ALL,
      'labbook/output.log': EVIL_ALL,
      'labbook/uncommitted.diff': `+${EVIL_ALL}\n-${EVIL.svg}\n`,
    },
  }
}
