/** The shapes of a run's artifacts as every face sees them (track reads them; server, site and CLI list them). */

/**
 * One artifact of a run as listed. `external` ones have only a pointer on the branch: a Git LFS pointer (`pointer:
 * 'lfs'`, bytes in .git/lfs/objects and on the remote's LFS store) or, from format 1, a labbook pointer (`'v1'`,
 * bytes in .git/labbook/objects of the machine that logged it).
 */
export interface ArtifactEntry {
  path: string
  size: number
  external: boolean
  sha256?: string
  pointer?: 'lfs' | 'v1'
}

/**
 * An artifact's bytes: in memory when they are a blob on the branch, else a file in this clone's store
 * (.git/lfs/objects, or .git/labbook/objects for format-1 pointers), downloaded first if it was missing.
 */
export type ArtifactContent =
  | { size: number; bytes: Uint8Array; file?: undefined }
  | { size: number; file: string; sha256: string; bytes?: undefined }
