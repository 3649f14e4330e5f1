/** Where things live on the branch (format 2: run summaries per shard, large artifacts as Git LFS pointers). Browser-safe. */
export const FORMAT_VERSION = 2
/** Format 2 keeps run summaries on the branch, per shard: sealed lines, and the latest writes over them. */
export const SUMMARIES_FILE = 'summaries.jsonl'
export const RECENT_FILE = 'recent.jsonl'
export const ROOT_FILE = 'labbook.yaml'
export const EXPERIMENTS_DIR = 'experiments'
export const RUNS_DIR = 'runs'
export const RUN_FILE = 'run.yaml'
export const METRICS_DIR = 'metrics'
export const ARTIFACTS_DIR = 'artifacts'
/** Reserved artifact folder for what labbook itself records (uncommitted diff, captured output). */
export const SYSTEM_ARTIFACTS = 'labbook'
export const DIFF_ARTIFACT = `${SYSTEM_ARTIFACTS}/uncommitted.diff`
export const LOG_ARTIFACT = `${SYSTEM_ARTIFACTS}/output.log`

/** 256 shards: a run's shard is the low byte of the FNV-1a hash of its id, as two hex digits. */
export function runShard(id: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return ((h >>> 0) & 0xff).toString(16).padStart(2, '0')
}

export function runDir(id: string): string {
  return `${RUNS_DIR}/${runShard(id)}/${id}`
}

export function experimentFile(id: string): string {
  return `${EXPERIMENTS_DIR}/${id}.yaml`
}

/** Chunk file names sort in write order. */
export function chunkName(seq: number): string {
  return `${String(seq).padStart(6, '0')}.jsonl`
}
