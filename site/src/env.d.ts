/// <reference types="astro/client" />

declare module 'labbook:site-data' {
  /** The file the static build wrote its pages' data to; null in a build whose pages get it per request. */
  const file: string | null
  export default file
}

declare namespace App {
  interface Locals {
    /** Set per request by a server that renders pages on demand (the same shape a static build reads). */
    labbook?: import('labbook-lib/site/build/site-data.js').SiteContext
  }
}
