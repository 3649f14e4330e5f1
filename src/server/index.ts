/** `labbook serve`: MLflow's tracking REST API over a labbook branch. */
export { serve, ROUTES } from './server.js'
export type { ServeOptions, RunningServer } from './server.js'
export { ApiError, toApiError } from './errors.js'
export type { Book, RunWriter } from './book.js'
export type { LiveSiteOptions } from './server.js'
export { LivePages } from './live-pages.js'
