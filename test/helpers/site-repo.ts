/** Fills a real temp repository's labbook branch with runs for site tests: two experiments, a parent with children, artifacts, and one run whose every field is hostile. */
import { Labbook } from '../../src/track/labbook.js'
import { EVIL, EVIL_ALL } from './site-fixtures.js'

export interface SiteRepoOptions { runs?: number; steps?: number; evil?: boolean }

/** Returns the ids of the runs it made, in creation order (the evil run last). */
export async function populateSiteRepo(dir: string, o: SiteRepoOptions = {}): Promise<{ ids: string[]; evilId?: string }> {
  const book = await Labbook.open({ repo: dir })
  const ids: string[] = []
  try {
    const nRuns = o.runs ?? 8, steps = o.steps ?? 60
    const t0 = 1_767_225_600_000 // 2026-01-01
    const exps = [await book.experiment('mnist-cnn'), await book.experiment('cifar')]
    let parent: string | undefined
    for (let i = 0; i < nRuns; i++) {
      const lr = [0.1, 0.03, 0.01, 0.003][i % 4]!
      const exp = exps[i % 3 === 2 ? 1 : 0]!
      const start = t0 + i * 600_000
      const run = await exp.startRun({
        name: `run-${i}`, params: { lr, batch_size: [32, 64][i % 2]!, model: i % 2 ? 'cnn' : 'mlp' },
        tags: { stage: i % 2 ? 'dev' : 'prod' }, startTime: start,
        parent: i === 4 ? parent : undefined,
        source: { commit: (i < nRuns / 2 ? 'a1b2c3d4' : 'e5f6a7b8').padEnd(40, '0'), branch: 'main', remote: 'https://github.com/acme/vision.git' },
        description: i === 0 ? 'Baseline with **Adam**. See [the paper](https://arxiv.org/abs/1412.6980).' : undefined,
      })
      if (i === 0) parent = run.id
      const q = 0.6 + 0.04 * i
      for (let s = 0; s < steps; s++) {
        const p = (s + 1) / steps
        run.logMetrics({ loss: 1.2 * Math.exp(-3 * p) + (1 - q) * 0.5, acc: q * (1 - Math.exp(-4 * p)) }, { step: s, timestamp: start + s * 1000 })
      }
      if (i === 0) {
        await run.logText('epoch,loss\n1,0.9\n2,0.5\n', 'results/table.csv')
        await run.logJson({ lr, note: 'hello' }, 'config.json')
        await run.logBytes('plots/pixel.png', PNG_1X1)
      }
      await run.end('FINISHED', { endTime: start + steps * 1000 })
      ids.push(run.id)
    }
    let evilId: string | undefined
    if (o.evil ?? true) {
      const exp = await book.experiment(`evil ${EVIL.script}`)
      const run = await exp.startRun({
        name: EVIL_ALL.slice(0, 240), params: { payload: EVIL_ALL, model: EVIL.img, url: EVIL.js }, tags: { note: EVIL_ALL, link: EVIL.js, tpl: EVIL.tpl },
        startTime: t0 + 99 * 600_000, user: EVIL.svg,
        source: { commit: 'deadbeef'.padEnd(40, 'f'), branch: EVIL.svg, remote: EVIL.js, command: EVIL_ALL, dirty: true },
        description: `${EVIL_ALL}\n\n[click me](${EVIL.js}) **${EVIL.script}**`,
      })
      for (let s = 0; s < 10; s++) run.logMetric('loss', 1 / (s + 1), { step: s, timestamp: t0 + s })
      await run.logText(`<html><body>${EVIL_ALL}</body></html>`, 'report.html')
      await run.logText(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"><script>window.__pwned=1</script></svg>`, 'chart.svg')
      await run.logText(EVIL_ALL, 'notes/<img src=x onerror=alert(1)>.txt')
      await run.end('FAILED', { endTime: t0 + 99 * 600_000 + 5000 })
      evilId = run.id
    }
    return { ids, evilId }
  } finally {
    await book.close()
  }
}

// A valid 1×1 PNG (red pixel).
const PNG_1X1 = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
