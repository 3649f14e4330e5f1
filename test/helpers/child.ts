// A separate labbook process for concurrency and crash tests: `node --import tsx test/helpers/child.ts MODE REPO ...`.
import { Labbook } from '../../src/index.js'

const [mode, repo, ...rest] = process.argv.slice(2)

async function main() {
  if (mode === 'runs') {
    const [count, tag] = rest
    const book = await Labbook.open({ repo })
    const exp = await book.experiment('race')
    for (let i = 0; i < Number(count); i++) {
      await exp.run({ name: `${tag}-${i}`, params: { writer: tag!, i } }, async (run) => {
        run.logMetric('loss', 1 / (i + 1))
        run.logMetric('loss', 1 / (i + 2))
      })
    }
  } else if (mode === 'log-and-push') {
    // Logs runs in rounds and pushes after each round: `log-and-push REPO TAG ROUNDS PER_ROUND REMOTE [MODE]`; prints
    // each push's result as a JSON line.
    const [tag, rounds, perRound, remote, mode] = rest
    const { push } = await import('../../src/sync/remote.js')
    const book = await Labbook.open({ repo })
    const exp = await book.experiment('shared')
    for (let r = 0; r < Number(rounds); r++) {
      for (let i = 0; i < Number(perRound); i++) {
        await exp.run({ name: `${tag}-${r}-${i}` }, async (run) => run.logMetric('acc', Math.random()))
      }
      const res = await push(book, remote, { attempts: 30, mode: mode as 'hosts' | 'shared' | undefined })
      process.stdout.write(JSON.stringify({ retries: res.retries, ref: res.ref, shared: res.shared }) + '\n')
    }
  } else if (mode === 'pool-crash') {
    // `pool-crash REPO POINT ID`: starts and ends two runs (the second starts this process's spare journals), waits for a
    // spare, then arms LABBOOK_TEST_CRASH_AT=POINT and starts run ID from a spare; prints `acked` once that run's
    // journal is fdatasynced and stays alive until killed. POINT `spare-dir` is armed before the first run instead.
    const [point, id] = rest
    process.env.LABBOOK_JOURNAL_SPARES = '1' // the default, explicit (journal-pool.ts sparesOn)
    const { readySpares } = await import('../../src/track/journal-pool.js')
    if (point === 'spare-dir') process.env.LABBOOK_TEST_CRASH_AT = point
    const book = await Labbook.open({ repo })
    for (let i = 0; i < 2; i++) await (await book.startRun({ experiment: 'pool', name: 'first' })).end('FINISHED') // the pool starts at the 2nd
    await book.flush()
    while (readySpares(book.gitdir) === 0) await new Promise((r) => setTimeout(r, 10))
    process.env.LABBOOK_TEST_CRASH_AT = point
    const run = await book.startRun({ experiment: 'pool', name: 'victim', id })
    await run.durable()
    process.stdout.write('acked\n')
    setInterval(() => {}, 1000) // alive until killed
  } else if (mode === 'park-crash') {
    // `park-crash REPO LIMIT`: 12 runs with the open-journal limit at LIMIT, each logging steps 0-5 of `loss` in turns
    // (fdatasynced each time, so most journals are parked), nothing committed after the start; prints `run <id>` per
    // run, then `acked`, and stays alive until killed.
    const [limit] = rest
    const { setOpenJournalLimit } = await import('../../src/track/journal.js')
    setOpenJournalLimit(Number(limit))
    const book = await Labbook.open({ repo, commitInterval: 3_600_000 })
    const runs = []
    for (let i = 0; i < 12; i++) runs.push(await book.startRun({ experiment: 'park', name: `r${i}` }))
    for (let step = 0; step < 6; step++) {
      for (const r of runs) {
        r.logMetric('loss', step / 10, { step })
        r.flush()
        await r.durable()
      }
    }
    for (const r of runs) process.stdout.write(`run ${r.id}\n`)
    process.stdout.write('acked\n')
    setInterval(() => {}, 1000) // alive until killed
  } else if (mode === 'rotate-crash') {
    // `rotate-crash REPO POINT [points]`: a run with a tag on the branch; then a commit during which (after its
    // snapshot) a tag `late` is set and acknowledged (fdatasynced, `acked` printed), so the rotation after that commit
    // carries it; LABBOOK_TEST_CRASH_AT=POINT is armed for that rotation. With `points`, the commit adds steps 0-9 of
    // `loss` (a rotation to a new base) and steps 10-19 are logged and acknowledged with the tag (the carry). Stays
    // alive until killed.
    const [point, points] = rest
    const book = await Labbook.open({ repo })
    const run = await book.startRun({ experiment: 'rotate', name: 'victim', tags: { early: 'yes' } })
    await run.durable()
    await book.flush()
    const update = book.store.update.bind(book.store)
    book.store.update = (async (...args: Parameters<typeof update>) => {
      book.store.update = update
      run.setTag('late', 'acked')
      if (points) for (let step = 10; step < 20; step++) run.logMetric('loss', step, { step })
      await run.durable()
      process.stdout.write('acked\n')
      process.env.LABBOOK_TEST_CRASH_AT = point
      return update(...args)
    }) as typeof update
    run.setTag('edit', 'committed')
    if (points) for (let step = 0; step < 10; step++) run.logMetric('loss', step, { step })
    await run.commit()
    process.stdout.write('rotated\n')
    setInterval(() => {}, 1000) // alive until killed
  } else if (mode === 'rotate-exit') {
    // `rotate-exit REPO POINT`: a run with steps 0-9 of `loss` logged; then a commit during which (from its snapshot
    // on) a point is logged and journaled every ms, its step printed (`logged N`), so some wait in memory for the
    // rotation after the commit; an exit at POINT (testPoints) is armed for that rotation, as a script's process.exit().
    const [point] = rest
    const book = await Labbook.open({ repo })
    const run = await book.startRun({ experiment: 'rotate', name: 'victim' })
    await book.flush()
    for (let step = 0; step < 10; step++) run.logMetric('loss', step, { step })
    let step = 10
    const update = book.store.update.bind(book.store)
    book.store.update = (async (...args: Parameters<typeof update>) => {
      book.store.update = update
      const { testPoints } = await import('../../src/store/process.js')
      testPoints.at = (at) => { if (at === point) process.exit(0) }
      setInterval(() => {
        run.logMetric('loss', step, { step })
        run.flush()
        process.stdout.write(`logged ${step++}\n`)
      }, 1)
      return update(...args)
    }) as typeof update
    await run.commit()
    process.stdout.write('rotated\n')
  } else if (mode === 'hold-lock') {
    // Takes the branch's ref lock and never lets go (until killed): a labbook process dying mid-commit.
    const { lockRef } = await import('../../src/store/ref.js')
    const { locateRepo } = await import('../../src/store/gitdir.js')
    await lockRef(locateRepo(repo).gitdir, 'refs/heads/labbook')
    process.stdout.write('locked\n')
    setInterval(() => {}, 1000) // alive until killed
  } else if (mode === 'experiment') {
    const book = await Labbook.open({ repo })
    const exp = await book.experiment(rest[0]!)
    process.stdout.write(exp.id + '\n')
  } else if (mode === 'log-forever') {
    // Logs points until killed; prints the run id, then a line per batch once it is on disk (run.durable(): a flush
    // while a commit of the run is in flight waits in memory until the commit lands).
    const book = await Labbook.open({ repo, commitInterval: Number(rest[0] ?? 30000) })
    const run = await book.startRun({ experiment: 'crash', name: 'victim', params: { lr: 0.1 } })
    run.setTag('phase', 'training')
    process.stdout.write(`${run.id}\n`)
    let step = 0
    for (;;) {
      for (let i = 0; i < 1000; i++) run.logMetric('loss', Math.exp(-step / 1e4), step++)
      run.flush()
      await run.durable()
      process.stdout.write(`flushed ${step}\n`)
      await new Promise((r) => setTimeout(r, 5))
    }
  } else if (mode === 'log-points') {
    // `log-points REPO COUNT EVERY_MS [EXPERIMENT] [hold]`: one point of `loss` every EVERY_MS, journaled at once (no
    // commit until the end), printing the step; then (with `hold`, once stdin closes) ends the run FINISHED and exits.
    const [count, every, experiment, hold] = rest
    const book = await Labbook.open({ repo, commitInterval: 3_600_000 })
    const run = await book.startRun({ experiment: experiment ?? 'live', name: 'training', params: { lr: 0.1 } })
    process.stdout.write(`${run.id}\n`)
    for (let step = 0; step < Number(count); step++) {
      run.logMetric('loss', 1 / (step + 1), { step })
      run.flush()
      process.stdout.write(`step ${step}\n`)
      await new Promise((r) => setTimeout(r, Number(every)))
    }
    if (hold === 'hold') await new Promise((r) => process.stdin.on('end', r).resume())
    await run.end('FINISHED')
    await book.close()
  } else if (mode === 'log-until-stdin') {
    // `log-until-stdin REPO EVERY_MS [EXPERIMENT]`: one point of `loss` every EVERY_MS, journaled at once, until stdin
    // closes; a line `more` on stdin adds a metric `acc`, a tag and a dataset from then on (prints `more at STEP`); a
    // line `back` logs one point out of step order: loss 5 at ten steps back (prints `back at STEP`).
    // Then logs an artifact notes.txt, ends the run FINISHED, prints `points N` and exits.
    const [every, experiment] = rest
    const book = await Labbook.open({ repo, commitInterval: 3_600_000 })
    const run = await book.startRun({ experiment: experiment ?? 'live', name: 'training', params: { lr: 0.1 } })
    process.stdout.write(`${run.id}\n`)
    let open = true
    let more = false
    let back = false
    process.stdin.on('data', (d) => {
      const said = String(d)
      if (said.includes('more')) more = true
      if (said.includes('back')) back = true
    }).on('end', () => (open = false)).resume()
    let step = 0
    let moreFrom = -1
    for (; open; step++) {
      run.logMetric('loss', 1 / (step + 1), { step })
      if (more) {
        if (moreFrom < 0) {
          moreFrom = step
          run.setTag('phase', 'two')
          run.logInputs([{ name: 'train-set', digest: 'd1', sourceType: 'local', source: 'data/train.csv' }])
          process.stdout.write(`more at ${step}\n`)
        }
        run.logMetric('acc', step / 1000, { step })
      }
      if (back && step >= 10) {
        back = false
        run.logMetric('loss', 5, { step: step - 10 })
        process.stdout.write(`back at ${step - 10}\n`)
      }
      run.flush()
      await new Promise((r) => setTimeout(r, Number(every)))
    }
    await run.logText('all done', 'notes.txt')
    await run.end('FINISHED')
    process.stdout.write(`points ${step}\n`)
    await book.close()
  } else if (mode === 'serve') {
    // `labbook serve` until killed: prints its URL.
    const { serve } = await import('../../src/server/index.js')
    const book = await Labbook.open({ repo })
    const srv = await serve({ book, port: 0 })
    process.stdout.write(`${srv.url}\n`)
    setInterval(() => {}, 1000)
  }
}

main().catch((e) => {
  process.stderr.write(`${e.code ?? ''} ${e.stack}\n`)
  process.exit(1)
})
