import type { CommandDef } from 'citty'

const examples = new WeakMap<object, string[]>()

/** Attaches usage examples to a command; main.ts prints them under EXAMPLES in `--help`. */
export function withExamples<T extends CommandDef<any>>(cmd: T, lines: string[]): T {
  examples.set(cmd, lines)
  return cmd
}

export function examplesOf(cmd: CommandDef<any>): string[] {
  return examples.get(cmd) ?? []
}
