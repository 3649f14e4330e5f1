/**
 * One step slider over images logged at several steps (src/site/browser/image-steps.ts). On a run page it moves every image
 * key of the run; on Compare every selected run together: each shows its image at the chosen step, or its nearest
 * earlier one. The slider is a native range input (arrows, Page Up/Down, Home/End). Without JavaScript (and until the
 * island hydrates) it shows the last step with the slider disabled.
 */
import { useId, useMemo, useState } from 'react'
import { imageAt, unionSteps, type ImageSeries } from 'labbook-lib/site/browser/image-steps.js'
import { siteUrl } from './url'
import { hydrationMark, useHydrated } from './hydrated'

export interface ImageStepsRun { id: string; label: string; series: ImageSeries[] }

export default function ImageSteps({ runs }: { runs: ImageStepsRun[] }) {
  const steps = useMemo(() => unionSteps(runs.flatMap((r) => r.series)), [runs])
  const keys = useMemo(() => [...new Set(runs.flatMap((r) => r.series.map((s) => s.key)))].sort(), [runs])
  const [index, setIndex] = useState(steps.length - 1)
  // The server renders the slider disabled: until this island has hydrated, moving it would change nothing it shows.
  const live = useHydrated()
  const id = useId()
  if (!steps.length) return null
  const i = Math.min(Math.max(index, 0), steps.length - 1)
  const step = steps[i]!
  const single = runs.length === 1
  const figure = (run: ImageStepsRun, key: string, caption: string) => {
    const s = run.series.find((x) => x.key === key)
    const im = s && imageAt(s.images, step)
    return (
      <figure key={`${run.id}/${key}`} data-run={run.id} data-key={key} data-step={im?.step ?? ''}>
        <figcaption>{caption}{im && <span className="muted"> · step {im.step}{im.step !== step ? ' (nearest before)' : ''}</span>}</figcaption>
        {im?.href
          ? <img src={siteUrl(im.href)} alt={`${key} at step ${im.step}`} loading="lazy" decoding="async" />
          : <div className="none">{s ? `no image at or before step ${step}` : `no ${key} images`}</div>}
      </figure>
    )
  }
  return (
    <section className="image-steps" aria-label="Images by step" {...hydrationMark(live)}>
      <div className="step-control">
        <label htmlFor={id}>Step</label>
        <input
          id={id} type="range" min={0} max={steps.length - 1} step={1} value={i} disabled={!live || steps.length < 2}
          aria-valuetext={`step ${step} (${i + 1} of ${steps.length})`}
          onChange={(e) => setIndex(Number(e.target.value))}
        />
        <output htmlFor={id} aria-live="polite">step {step}</output>
        <span className="muted small">{steps.length} logged {steps.length === 1 ? 'step' : 'steps'} · arrow keys move it</span>
      </div>
      {single
        ? <div className="image-grid">{keys.map((k) => figure(runs[0]!, k, k))}</div>
        : keys.map((k) => (
          <div className="image-key" key={k} data-key={k}>
            <h3 className="mono">{k}</h3>
            <div className="image-grid">{runs.map((r) => figure(r, k, r.label))}</div>
          </div>
        ))}
    </section>
  )
}
