/** What the site reads: `SiteSource`, declared with the book's read contract in src/model/book.ts (a `Labbook`, a `book.at(rev)` view, or the fake in memory-source.ts). */
export type { ArtifactContent, ArtifactEntry } from '../../model/artifact.js'
export type { SiteSource } from '../../model/book.js'
