/**
 * Images logged at several steps, found in a run's artifact list, and the image to show at a chosen step.
 * Browser-safe (pure): the collector groups the paths at build time, the step slider picks in the browser.
 *
 * Two layouts make a series:
 * - MLflow's `log_image(image, key=K, step=N)`: `images/<K, "/" as "#">%step%<N>%timestamp%<ms>%<uuid>.png`, plus a
 *   `…%compressed.webp` thumbnail of the same image (some clients write `+` instead of `%` between the fields);
 * - files named by step in one artifact folder: `samples/epoch_3.png`, `samples/epoch_10.png` (the last number in the
 *   name is the step; the rest of the name, with that number taken out, must be the same). Two files at least.
 */

/** One image of a series: the artifact path and, once copied into the site, its href (relative to the base). */
export interface StepImage { step: number; path: string; href?: string; timestamp?: number }

/** A key (MLflow's image key, or `folder/name_#`) and its images by ascending step (one per step: the latest logged). */
export interface ImageSeries { key: string; images: StepImage[] }

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp)$/i
// images/<key>%step%<n>%timestamp%<ms>%<uuid>[%compressed].<ext>, with % or + between the fields.
const MLFLOW = /^images\/(.+?)([%+])step\2(\d+)\2timestamp\2(\d+)\2([^/]+?)(\2compressed)?\.(png|jpe?g|webp|gif)$/i

/**
 * Groups artifact paths into image series (MLflow's stepped images first, then files named by step in one folder).
 * A path belongs to one series at most; keys are sorted.
 * @example imageSeries(['s/step_1.png', 's/step_2.png']) // [{ key: 's/step_#.png', images: [{ step: 1, … }, { step: 2, … }] }]
 */
export function imageSeries(paths: readonly string[]): ImageSeries[] {
  const mlflow = new Map<string, StepImage[]>()
  const byTemplate = new Map<string, StepImage[]>()
  for (const path of paths) {
    if (!IMAGE.test(path)) continue
    const m = MLFLOW.exec(path)
    if (m) {
      if (m[6]) continue // the compressed thumbnail of an image that is listed itself
      const key = m[1]!.replace(/#/g, '/')
      const list = mlflow.get(key) ?? mlflow.set(key, []).get(key)!
      list.push({ step: Number(m[3]), path, timestamp: Number(m[4]) })
      continue
    }
    const slash = path.lastIndexOf('/')
    const name = path.slice(slash + 1)
    const num = /(\d+)(?!.*\d)/.exec(name)
    if (!num || num[1]!.length > 15) continue
    const template = `${path.slice(0, slash + 1)}${name.slice(0, num.index)}#${name.slice(num.index + num[1]!.length)}`
    const list = byTemplate.get(template) ?? byTemplate.set(template, []).get(template)!
    list.push({ step: Number(num[1]), path })
  }
  const out: ImageSeries[] = []
  for (const [key, images] of mlflow) out.push({ key, images: onePerStep(images) })
  for (const [key, images] of byTemplate) {
    const steps = onePerStep(images)
    // MLflow keys win a clash of names; a folder with one numbered file is not a series.
    if (steps.length >= 2 && !mlflow.has(key)) out.push({ key, images: steps })
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** By ascending step; of several images at one step, the one logged last (then the last path) stays. */
function onePerStep(images: StepImage[]): StepImage[] {
  const sorted = [...images].sort((a, b) => a.step - b.step || (a.timestamp ?? 0) - (b.timestamp ?? 0) || (a.path < b.path ? -1 : 1))
  const out: StepImage[] = []
  for (const im of sorted) {
    if (out.length && out[out.length - 1]!.step === im.step) out[out.length - 1] = im
    else out.push(im)
  }
  return out
}

/** Every step any of the series has, ascending (the positions of one slider over several series or runs). */
export function unionSteps(series: ReadonlyArray<Pick<ImageSeries, 'images'>>): number[] {
  const s = new Set<number>()
  for (const x of series) for (const im of x.images) s.add(im.step)
  return [...s].sort((a, b) => a - b)
}

/**
 * The image at `step`, or the nearest one logged before it (a run that has no image at that step shows its last
 * earlier one); undefined when the series starts after `step`.
 */
export function imageAt(images: readonly StepImage[], step: number): StepImage | undefined {
  let lo = 0, hi = images.length - 1, found: StepImage | undefined
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (images[mid]!.step <= step) { found = images[mid]; lo = mid + 1 } else hi = mid - 1
  }
  return found
}

/** The paths that belong to a series (the page shows them in the step viewer instead of one preview each). */
export function seriesPaths(series: readonly ImageSeries[], allPaths: readonly string[]): Set<string> {
  const inSeries = new Set<string>()
  for (const s of series) for (const im of s.images) inSeries.add(im.path)
  // MLflow's thumbnails and the older images of a step that was logged twice belong to the series too.
  for (const p of allPaths) {
    const m = MLFLOW.exec(p)
    if (m && series.some((s) => s.key === m[1]!.replace(/#/g, '/'))) inSeries.add(p)
  }
  return inSeries
}
