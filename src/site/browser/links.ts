/** Commit links for GitHub and GitLab remotes; anything else gets no link (never a URL built from unchecked text). */

const SHA = /^[0-9a-f]{7,64}$/i
const PART = /^[\w.-]+$/

/** https URL of the commit page, or undefined when the remote is not a recognised GitHub/GitLab URL. */
export function commitUrl(remote: string | undefined, sha: string | undefined): string | undefined {
  if (!sha || !SHA.test(sha)) return undefined
  const r = parseRemote(remote)
  if (!r) return undefined
  const { host, parts } = r
  if (host === 'github.com' && parts.length === 2) return `https://github.com/${parts.join('/')}/commit/${sha}`
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return `https://${host}/${parts.join('/')}/-/commit/${sha}`
  return undefined
}

/**
 * Where the host serves a Git LFS file of the branch over https (GitHub's media server, GitLab's and Gitea's raw
 * endpoints resolve LFS pointers), or undefined for any other host.
 * @example lfsDownloadUrl('git@github.com:team/repo.git', 'labbook', 'runs/3f/01j…/artifacts/model.ckpt')
 */
export function lfsDownloadUrl(remote: string | undefined, rev: string | undefined, path: string): string | undefined {
  const r = parseRemote(remote)
  if (!r || !rev || !/^[\w./-]+$/.test(rev) || rev.includes('..')) return undefined
  const { host, parts } = r
  const file = path.split('/').map(encodeURIComponent).join('/')
  const ref = rev.split('/').map(encodeURIComponent).join('/')
  if (host === 'github.com' && parts.length === 2) return `https://media.githubusercontent.com/media/${parts.join('/')}/${ref}/${file}`
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return `https://${host}/${parts.join('/')}/-/raw/${ref}/${file}?inline=false`
  if ((host === 'codeberg.org' || host.startsWith('gitea.')) && parts.length === 2) return `https://${host}/${parts.join('/')}/media/${SHA.test(rev) ? 'commit' : 'branch'}/${ref}/${file}`
  return undefined
}

function parseRemote(remote: string | undefined): { host: string; parts: string[] } | undefined {
  if (!remote) return undefined
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
  return { host, parts }
}
