/** dynalite ships no types: the part of its API that local/dynamodb.ts uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http'

  interface DynaliteOptions {
    /** LevelDB directory; in memory without. */
    path?: string
    createTableMs?: number
    deleteTableMs?: number
    updateTableMs?: number
  }

  export default function dynalite(options?: DynaliteOptions): Server
}
