// A group commit builds its edits one after the other, each seeing the ones before it, but writes the shared trees
// once (src/store/tree-view.ts PendingTree): the result must be the tree the edits make applied one by one, also when
// they read or rewrite each other's paths, and the pack must hold no trees of the steps in between.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BranchStore, type EditBuilder } from '../../src/store/branch-store.js'
import { ObjectStore } from '../../src/store/objects.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => {
  repo?.cleanup()
  repo = undefined
})

type Step = (objects: ObjectStore) => EditBuilder<string>
const put = (path: string, text: string): Step => (objects) => async () => ({ changes: [{ path, blob: objects.writeBlob(text) }], subject: `put ${path}`, result: '' })
/** Reads `from` (what the edits before it left there) and writes what it read, plus a mark, to `to`. */
const copy = (from: string, to: string): Step => (objects) => async (view) => {
  const seen = (await view.readText(from)) ?? '(none)'
  return { changes: [{ path: to, blob: objects.writeBlob(`${seen}+`) }], subject: `copy ${from}`, result: seen }
}
const listing = (dir: string, to: string): Step => (objects) => async (view) => {
  const names = (await view.list(dir)).map((e) => e.name).join(',')
  return { changes: [{ path: to, blob: objects.writeBlob(names) }], subject: `list ${dir}`, result: names }
}
const remove = (path: string): Step => () => async () => ({ changes: [{ path, remove: true }], subject: `rm ${path}`, result: '' })

describe('a group commit of many edits', () => {
  it('makes the tree the edits make one by one, each edit reading what the ones before it wrote', async () => {
    repo = gitRepo()
    const objects = new ObjectStore(join(repo.dir, '.git'))
    const store = (ref: string) => new BranchStore(join(repo!.dir, '.git'), 'x', objects, { ref, plain: true })
    const steps: Step[] = [
      put('runs/aa/r1/run.yaml', 'one'),
      put('runs/bb/r2/run.yaml', 'two'),
      copy('runs/aa/r1/run.yaml', 'runs/aa/r1/copy.txt'), // a file an earlier edit wrote
      listing('runs/aa/r1', 'runs/cc/list.txt'), // a folder an earlier edit changed
      remove('runs/aa/r1'), // a folder above earlier changes
      put('runs/aa/r1/metrics/000000.jsonl', 'm'), // below a folder removed just before
      copy('runs/aa/r1/run.yaml', 'runs/dd/gone.txt'), // gone again
      listing('', 'top.txt'), // the root
      put('runs/bb/r2/run.yaml', 'two again'), // the same path twice
      copy('runs/bb/r2/run.yaml', 'runs/ee/again.txt'),
    ]
    // one by one: a commit each
    const single = store('refs/test/single')
    const results1: string[] = []
    for (const s of steps) results1.push(await single.update(s(objects)))
    // together: queued in one tick, one commit
    const group = store('refs/test/group')
    const results2 = await Promise.all(steps.map((s) => group.update(s(objects), { gather: true })))
    expect(results2).toEqual(results1)
    expect(results1.filter(Boolean)).toEqual(['one', 'copy.txt,run.yaml', '(none)', 'runs', 'two again'])
    expect(repo.git('rev-list', '--count', 'refs/test/group').trim()).toBe('1')
    expect(repo.git('rev-parse', 'refs/test/group^{tree}')).toBe(repo.git('rev-parse', 'refs/test/single^{tree}'))
    expect(repo.git('ls-tree', '-r', '--name-only', 'refs/test/group').trim().split('\n')).toEqual([
      'runs/aa/r1/metrics/000000.jsonl', 'runs/bb/r2/run.yaml', 'runs/cc/list.txt', 'runs/dd/gone.txt', 'runs/ee/again.txt', 'top.txt',
    ])
    expect(repo.git('show', 'refs/test/group:runs/ee/again.txt')).toBe('two again+')
  })

  it('writes the shared trees once: the pack of ten runs in ten shards holds no trees of the steps in between', async () => {
    repo = gitRepo()
    const objects = new ObjectStore(join(repo.dir, '.git'))
    const store = new BranchStore(join(repo.dir, '.git'), 'x', objects, { ref: 'refs/test/runs', plain: true })
    await store.update(put('runs/00/r0/run.yaml', 'first')(objects))
    const before = objects.objectsPacked
    const shards = ['10', '21', '32', '43', '54', '65', '76', '87', '98', 'a9']
    await Promise.all(shards.map((s) => store.update(put(`runs/${s}/r${s}/run.yaml`, `run ${s}`)(objects), { gather: true })))
    // 10 blobs + 10 run folders + 10 shard trees + runs/ + the root + the commit; one by one it was 10 runs/ and 10 roots
    expect(objects.objectsPacked - before).toBe(10 + 10 + 10 + 1 + 1 + 1)
    expect(repo.git('ls-tree', '--name-only', 'refs/test/runs:runs').trim().split('\n')).toEqual(['00', ...shards])
  })
})
