/** Commit links for GitHub and GitLab remotes; anything else gets no link (never a URL built from unchecked text). */

const SHA = /^[0-9a-f]{7,64}$/i
const PART = /^[\w.-]+$/

/** https URL of the commit page, or undefined when the remote is not a recognised GitHub/GitLab URL. */
export function commitUrl(remote: string | undefined, sha: string | undefined): string | undefined {
  if (!remote || !sha || !SHA.test(sha)) return undefined
  let host: string, path: string
  const scp = /^(?:ssh:\/\/)?git@([\w.-]+)[:/](.+)$/.exec(remote.trim())
  if (scp) [host, path] = [scp[1]!, scp[2]!]
  else {
    try {
      const u = new URL(remote.trim())
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined
      host = u.hostname
      path = u.pathname.replace(/^\//, '')
    } catch {
      return undefined
    }
  }
  const parts = path.replace(/\.git$/, '').replace(/\/$/, '').split('/')
  if (parts.length < 2 || !parts.every((p) => PART.test(p) && p !== '..' && p !== '.')) return undefined
  if (host === 'github.com' && parts.length === 2) return `https://github.com/${parts.join('/')}/commit/${sha}`
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return `https://${host}/${parts.join('/')}/-/commit/${sha}`
  return undefined
}
