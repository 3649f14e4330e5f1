/** Run ids: 26 characters of lowercase Crockford base32, the first 10 the creation time in ms, so ids sort by creation. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
let lastTime = -1
let lastRandom: number[] = []

export function newRunId(now: number = Date.now()): string {
  let random: number[]
  if (now <= lastTime) {
    // Same millisecond (or a clock step back): bump the random part so ids stay strictly increasing in this process.
    now = lastTime
    random = increment(lastRandom)
  } else {
    const bytes = new Uint8Array(16)
    globalThis.crypto.getRandomValues(bytes)
    random = Array.from(bytes, (b) => b & 31)
    random[0] = random[0]! & 15 // headroom for increments
  }
  lastTime = now
  lastRandom = random
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  return time + random.map((d) => ALPHABET[d]).join('')
}

function increment(digits: number[]): number[] {
  const out = digits.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 31) {
      out[i]!++
      return out
    }
    out[i] = 0
  }
  return out
}

/** Creation time encoded in a labbook run id, or undefined for ids from elsewhere (MLflow's hex ids). */
export function runIdTime(id: string): number | undefined {
  if (id.length !== 26) return undefined
  let t = 0
  for (let i = 0; i < 10; i++) {
    const d = ALPHABET.indexOf(id[i]!)
    if (d < 0) return undefined
    t = t * 32 + d
  }
  return t
}
