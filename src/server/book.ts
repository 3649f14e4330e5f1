/**
 * The book as the server serves it: the one declared contract (`Book` in src/model/book.ts) plus the model registry,
 * which the registry routes write through. Other faces (the importer, the site) use src/model/book.ts directly.
 */
import type { Book as BookContract, StartRunOptions as CoreStartRunOptions } from '../model/book.js'
import type { Registry } from '../registry/registry.js'

export type { ArtifactEntry } from '../model/artifact.js'
export type { RunWriter } from '../model/book.js'

/** The core's options, with the experiment given by name. */
export type StartRunOptions = CoreStartRunOptions & { experiment?: string }

export interface Book extends BookContract {
  /** The model registry on the branch. */
  readonly models: Registry
  /** Make the book's group commits in a worker thread (Labbook: src/track/commit-thread.ts), off the server's event loop. */
  useCommitThread?(): Promise<void>
}
