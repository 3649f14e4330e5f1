import type { CommandDef } from 'citty'

/**
 * Any of our commands, whatever its own args (the command table, the help). The one `any` of the CLI: citty types
 * `run` by the command's args, contravariantly, so no `CommandDef<…>` but this one holds every command.
 */
// biome-ignore lint/suspicious/noExplicitAny: citty's command type is generic in its args; a table of commands needs the widest
export type AnyCommand = CommandDef<any>

const examples = new WeakMap<object, string[]>()

/** Attaches usage examples to a command; main.ts prints them under EXAMPLES in `--help`. */
export function withExamples<T extends object>(cmd: T, lines: string[]): T {
  examples.set(cmd, lines)
  return cmd
}

export function examplesOf(cmd: object): string[] {
  return examples.get(cmd) ?? []
}
