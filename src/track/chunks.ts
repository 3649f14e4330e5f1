import { decodeRun } from '../format/yaml.js'
import { METRICS_DIR, RUN_FILE, runDir } from '../model/layout.js'
import { isTreeMode } from '../store/objects.js'
import type { TreeView } from '../store/tree-view.js'

/** A chunk still under this size is extended by the next commit instead of starting a new one. */
export const SMALL_CHUNK = 64 * 1024
/** Chunks never grow past this (split at line boundaries). */
export const MAX_CHUNK = 1024 * 1024

/** Where new points go: the open small chunk is extended (the one rewrite we allow), the rest split at 1 MiB. */
export function layoutChunks(open: { seq: number; text: string } | undefined, nextChunk: number, text: string) {
  const chunks: Array<{ seq: number; text: string }> = []
  if (text === '') return { chunks, nextChunk, open }
  let rest = text
  let seq = nextChunk
  if (open && open.text.length < SMALL_CHUNK) {
    rest = open.text + text
    seq = open.seq
  }
  while (rest.length > 0) {
    let cut = rest.length
    if (cut > MAX_CHUNK) {
      cut = rest.lastIndexOf('\n', MAX_CHUNK - 1) + 1
      if (cut <= 0) cut = rest.indexOf('\n') + 1 || rest.length
    }
    chunks.push({ seq, text: rest.slice(0, cut) })
    rest = rest.slice(cut)
    seq++
  }
  const last = chunks[chunks.length - 1]!
  return { chunks, nextChunk: seq, open: last.text.length < SMALL_CHUNK ? last : undefined }
}

/** Reads what a writer attaching to an existing run needs: its committed point count and next chunk number. */
export async function existingRunState(view: TreeView, id: string): Promise<{ committedPoints: number; nextChunk: number }> {
  const chunks = (await view.list(`${runDir(id)}/${METRICS_DIR}`)).filter((e) => !isTreeMode(e.mode))
  let max = -1
  for (const c of chunks) max = Math.max(max, parseInt(c.name, 10))
  const run = decodeRun(await view.mustReadText(`${runDir(id)}/${RUN_FILE}`))
  let points = 0
  for (const s of Object.values(run.metrics)) points += s.count
  return { committedPoints: points, nextChunk: max + 1 }
}

