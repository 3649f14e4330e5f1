import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { LabbookError } from '../errors.js'
import type { ParamValue } from '../model/run.js'
import { keyed } from '../model/run.js'

/**
 * Reads a YAML or JSON params file (DVC's `params.yaml` habit) and flattens its leaves to dotted keys:
 * `{train: {lr: 0.01}}` gives `train.lr = 0.01`. Lists stay whole, as their JSON text; null becomes "null".
 * @example await readParamsFile('params.yaml') // { 'train.lr': 0.01, 'train.epochs': 10 }
 */
export async function readParamsFile(path: string): Promise<Record<string, ParamValue>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new LabbookError('IO_FAILED', `Cannot read params file ${path}: ${(e as Error).message}.`, 'Check the path given to --params-file.', { path }, { cause: e })
  }
  let value: unknown
  try {
    value = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (e) {
    throw new LabbookError('INVALID_VALUE', `Params file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      'Fix the file; it should map names to values, e.g. "train:\\n  lr: 0.01".', { path }, { cause: e })
  }
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new LabbookError('INVALID_VALUE', `Params file ${path} holds a ${Array.isArray(value) ? 'list' : typeof value}, not a mapping.`,
      'The top level should map names to values, e.g. "lr: 0.01".', { path })
  }
  return flattenParams(value as Record<string, unknown>)
}

/** Flattens nested objects to dotted keys (see readParamsFile). */
export function flattenParams(value: Record<string, unknown>, prefix = '', out: Record<string, ParamValue> = keyed()): Record<string, ParamValue> {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) flattenParams(v as Record<string, unknown>, key, out)
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v
    else if (v instanceof Date) out[key] = v.toISOString()
    else out[key] = JSON.stringify(v) ?? String(v)
  }
  return out
}
