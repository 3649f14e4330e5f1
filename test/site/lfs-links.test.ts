// The site links an artifact too large to copy to the host's own download URL for Git LFS files. The shapes follow
// the hosts' routes (each serves the LFS object, not the pointer, at that URL):
// - GitHub: media.githubusercontent.com/media/OWNER/REPO/REF/PATH (the "Download" link of an LFS file);
// - GitLab: /GROUP[/SUBGROUP…]/PROJECT/-/raw/REF/PATH — gitlabhq app/controllers/projects/raw_controller.rb calls
//   send_blob (app/controllers/concerns/sends_blob.rb), which sends the LFS object when blob.stored_externally?;
//   ?inline=false asks for an attachment;
// - Gitea/Forgejo (Codeberg): /OWNER/REPO/media/{branch|tag|commit}/REF/PATH — go-gitea/gitea routers/web/web.go,
//   m.Group("/media") → repo.SingleDownloadOrLFS.
import { describe, expect, it } from 'vitest'
import { lfsDownloadUrl } from '../../src/site/browser/links.js'

const SHA = '6cd80adfd9a8ff7dff5d5a3e58e4a955a4d2e2e7'
const PATH = 'runs/3f/01jf3k/artifacts/model dir/weights#1.bin'
const FILE = 'runs/3f/01jf3k/artifacts/model%20dir/weights%231.bin'

describe('lfsDownloadUrl', () => {
  it('GitHub: the media server, from ssh and https remotes', () => {
    for (const remote of ['git@github.com:acme/vision.git', 'https://github.com/acme/vision', 'ssh://git@github.com/acme/vision.git']) {
      expect(lfsDownloadUrl(remote, SHA, PATH)).toBe(`https://media.githubusercontent.com/media/acme/vision/${SHA}/${FILE}`)
    }
    expect(lfsDownloadUrl('https://github.com/acme/vision.git', 'labbook', PATH)).toBe(`https://media.githubusercontent.com/media/acme/vision/labbook/${FILE}`)
  })

  it('GitLab: /-/raw/ of the project, subgroups and self-hosted gitlab.* hosts included', () => {
    expect(lfsDownloadUrl('git@gitlab.com:acme/vision.git', SHA, PATH)).toBe(`https://gitlab.com/acme/vision/-/raw/${SHA}/${FILE}?inline=false`)
    expect(lfsDownloadUrl('https://gitlab.com/acme/ml/vision.git', 'labbook', PATH)).toBe(`https://gitlab.com/acme/ml/vision/-/raw/labbook/${FILE}?inline=false`)
    expect(lfsDownloadUrl('git@gitlab.example.org:team/sub/proj.git', SHA, PATH)).toBe(`https://gitlab.example.org/team/sub/proj/-/raw/${SHA}/${FILE}?inline=false`)
  })

  it('Gitea and Codeberg: /media/commit/ for a commit id, /media/branch/ for a branch name', () => {
    expect(lfsDownloadUrl('https://codeberg.org/acme/vision.git', SHA, PATH)).toBe(`https://codeberg.org/acme/vision/media/commit/${SHA}/${FILE}`)
    expect(lfsDownloadUrl('git@gitea.example.org:acme/vision.git', 'labbook', PATH)).toBe(`https://gitea.example.org/acme/vision/media/branch/labbook/${FILE}`)
    expect(lfsDownloadUrl('git@gitea.example.org:acme/vision.git', 'team/labbook', PATH)).toBe(`https://gitea.example.org/acme/vision/media/branch/team/labbook/${FILE}`)
  })

  it('no link for unknown hosts, local paths, or a revision or path that could escape the URL', () => {
    expect(lfsDownloadUrl('https://bitbucket.org/acme/vision.git', SHA, PATH)).toBeUndefined()
    expect(lfsDownloadUrl('/srv/git/vision.git', SHA, PATH)).toBeUndefined()
    expect(lfsDownloadUrl('file:///srv/git/vision.git', SHA, PATH)).toBeUndefined()
    expect(lfsDownloadUrl(undefined, SHA, PATH)).toBeUndefined()
    expect(lfsDownloadUrl('https://github.com/acme/vision', undefined, PATH)).toBeUndefined()
    expect(lfsDownloadUrl('https://github.com/acme/vision', '../../evil', PATH)).toBeUndefined()
    expect(lfsDownloadUrl('https://github.com/acme/vision', 'a?b=1', PATH)).toBeUndefined()
    expect(lfsDownloadUrl('https://github.com/ac"me/vision', SHA, PATH)).toBeUndefined()
    expect(lfsDownloadUrl('https://github.com/acme/vision', SHA, 'runs/x/artifacts/<script>.bin')).toBe(`https://media.githubusercontent.com/media/acme/vision/${SHA}/runs/x/artifacts/%3Cscript%3E.bin`)
  })
})
