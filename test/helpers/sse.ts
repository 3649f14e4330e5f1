/**
 * Reads a Server-Sent Events stream (`labbook serve`'s `/live/events`): calls `onEvent` with each event's name and
 * its `data` line, parsed as JSON. Returns the function that closes the stream. For tests and benches.
 * @example const close = readEvents(`${srv.url}/live/events`, (name, data) => got.push(data))
 */
import http from 'node:http'

export function readEvents(url: string, onEvent: (name: string, data: unknown) => void, onError?: (e: Error) => void): () => void {
  const req = http.get(url, (res) => {
    let buf = ''
    res.setEncoding('utf8')
    res.on('data', (d: string) => {
      buf += d
      let i
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (data !== undefined) onEvent(/^event: (.*)$/m.exec(block)?.[1] ?? 'message', JSON.parse(data))
      }
    })
  })
  req.on('error', (e) => onError?.(e))
  return () => req.destroy()
}
