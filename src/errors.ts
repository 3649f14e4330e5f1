/**
 * The error catalog: every code labbook raises on purpose, written once with what it means, what to do about it
 * (the hint shown when a throw site has nothing more specific), how the MLflow server answers it and the CLI's exit
 * code. `docs/errors.md` is generated from this table (`node scripts/errors-doc.mjs`), and a test fails when a
 * code lacks any of these or the docs drift. Codes never change name: clients match on them.
 *
 * Adding a code: add an entry here (the `ErrorCode` type follows), then regenerate docs/errors.md.
 */

/** MLflow's error codes (mlflow/protos/databricks.proto) that labbook's server answers with. */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'INVALID_STATE'
  | 'BAD_REQUEST'
  | 'ENDPOINT_NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL_ERROR'

/** The HTTP status of each MLflow code. MLflow's client retries 429 and 5xx for minutes: only our own failures are 5xx. */
export const MLFLOW_STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_STATE: 409,
  BAD_REQUEST: 400,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  REQUEST_LIMIT_EXCEEDED: 413,
  TEMPORARILY_UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500,
}

/** One entry of the catalog. */
export interface ErrorInfo {
  /** What happened, in a few words (the heading in docs/errors.md). */
  title: string
  /** What to do: shown after `hint:` when the throw site gives no more specific hint. */
  hint: string
  /** What MLflow's REST API answers with. */
  mlflow: MlflowErrorCode
  /** The HTTP status, when not MLflow's usual one for `mlflow`. */
  status?: number
  /** The CLI's exit code: 2 for bad usage (the caller can fix the command line), 1 for a failed operation. */
  exit: 1 | 2
}

const catalog = {
  NOT_A_GIT_REPO: {
    title: 'Not inside a git repository',
    hint: 'Run labbook inside a git repository, pass --repo DIR, or create one with `git init`.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  BRANCH_MISSING: {
    title: 'The runs branch does not exist',
    hint: 'Run `labbook init` to create it, or `labbook pull` to fetch it.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  FORMAT_TOO_NEW: {
    title: 'The branch was written by a newer labbook',
    hint: 'Upgrade labbook (npm install labbook@latest).',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  CORRUPT_DATA: {
    title: 'A file or object on the branch is damaged',
    hint: 'Run `git fsck`; `git log -p` on the branch shows who changed the file. docs/format.md describes every file.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  RUN_NOT_FOUND: {
    title: 'No such run',
    hint: 'List runs with `labbook ls --all`; ids can be shortened to a unique prefix of 4+ characters.',
    mlflow: 'RESOURCE_DOES_NOT_EXIST', exit: 1,
  },
  RUN_AMBIGUOUS: {
    title: 'A run id prefix matches several runs',
    hint: 'Give more characters of the id.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  RUN_EXISTS: {
    title: 'A run with that id already exists',
    hint: 'Leave the id out to get a new one, or open the existing run with book.openRun(id).',
    mlflow: 'RESOURCE_ALREADY_EXISTS', exit: 1,
  },
  RUN_LOCKED: {
    title: 'Another process is writing the run',
    hint: 'Wait for that process to end the run; if it died, `labbook recover` finishes the run from its journal.',
    // Not a 5xx: MLflow's client would retry it for minutes while the other writer keeps the run.
    mlflow: 'INVALID_STATE', exit: 1,
  },
  RUN_NOT_ACTIVE: {
    title: 'The run is deleted and takes no more data',
    hint: 'Restore it first (`labbook restore <run>`, MLflow `restore_run`); a deleted run still takes artifacts.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  RUN_ENDED: {
    title: 'The run has ended and takes no more data',
    hint: 'Reopen it with book.openRun(id) to add to a finished run.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  EXPERIMENT_NOT_FOUND: {
    title: 'No such experiment',
    hint: 'List them with `labbook experiments`.',
    mlflow: 'RESOURCE_DOES_NOT_EXIST', exit: 1,
  },
  EXPERIMENT_EXISTS: {
    title: 'An experiment with that name already exists',
    hint: 'Pick another name, or log into the existing experiment.',
    mlflow: 'RESOURCE_ALREADY_EXISTS', exit: 1,
  },
  MODEL_NOT_FOUND: {
    title: 'No such registered model, version or alias',
    hint: 'List models with `labbook models ls` and a model\'s versions and aliases with `labbook models show NAME`.',
    mlflow: 'RESOURCE_DOES_NOT_EXIST', exit: 1,
  },
  MODEL_EXISTS: {
    title: 'A registered model with that name already exists',
    hint: 'Register a new version of it (`labbook models register NAME RUN`), or pick another name.',
    mlflow: 'RESOURCE_ALREADY_EXISTS', exit: 1,
  },
  INVALID_KEY: {
    title: 'A param, metric or tag key breaks the key rule',
    hint: 'Keys use letters, digits, "_", "-", ".", " " and "/", at most 250 characters, no ".." or leading "/".',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  INVALID_VALUE: {
    title: 'A value has the wrong type or shape',
    hint: 'The message names the value and the rule it breaks; docs/format.md lists what each field holds.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  INVALID_ID: {
    title: 'A run id breaks the id rule',
    hint: 'Ids are letters, digits, "_" and "-", starting with a letter or digit, at most 256 characters.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  INVALID_STATUS: {
    title: 'Not a run status',
    hint: 'Use FINISHED, FAILED or KILLED.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  INVALID_ARGUMENT: {
    title: 'An argument is not one labbook accepts',
    hint: 'The message names the argument and what it accepts; `labbook <command> --help` shows examples.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 2,
  },
  INVALID_FILTER: {
    title: 'A filter or order-by expression does not parse',
    hint: 'Write filters like `metrics.acc > 0.9 and params.lr = "0.01"`; docs/query.md has the grammar.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 2,
  },
  PARAM_CHANGED: {
    title: 'A param was logged again with a different value',
    hint: 'Params are fixed once logged: start a new run for new settings, or log the changing value as a metric or tag.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  VALUE_TOO_LONG: {
    title: 'A value is longer than its limit',
    hint: 'Shorten the value, or log long text as an artifact.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  PATH_ESCAPE: {
    title: 'An artifact path leaves the run\'s artifact folder',
    hint: 'Use a relative path of plain names between "/", without ".." segments, e.g. "model/weights.json".',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  INVALID_PATH: {
    title: 'An artifact path names something git refuses to store',
    hint: 'Use a relative path of plain names joined by "/", e.g. "model/weights.json": no control characters, and no component git reserves (.git, .gitmodules, .gitattributes in any spelling).',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 1,
  },
  UNSUPPORTED_OBJECT_FORMAT: {
    title: 'The repository uses an object format labbook cannot write',
    hint: 'labbook writes SHA-1 objects only: keep runs in a SHA-1 repository (git init --object-format=sha1), or pass --repo to point at one.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  BRANCH_CHECKED_OUT: {
    title: 'The labbook branch is checked out in a worktree',
    hint: 'Detach that worktree (`git -C <worktree> switch --detach`) or remove it; look at the branch with `git worktree add --detach <dir> labbook`.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  ARTIFACT_NOT_FOUND: {
    title: 'No such artifact or local file',
    hint: 'List a run\'s artifacts with `labbook show RUN`.',
    mlflow: 'RESOURCE_DOES_NOT_EXIST', exit: 1,
  },
  LFS_MISSING: {
    title: 'git-lfs is not installed',
    hint: 'Install Git LFS: `apt-get install git-lfs` (Debian/Ubuntu), `brew install git-lfs` (macOS) or see https://git-lfs.com; no `git lfs install` is needed for labbook.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  LFS_FAILED: {
    title: 'A Git LFS transfer failed',
    hint: 'Check that the remote accepts Git LFS objects and that you may push there, then run the command again.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  LOCK_TIMEOUT: {
    title: 'The branch stayed locked',
    hint: 'Another labbook or git command (gc, pack-refs, update-ref) holds the branch\'s .lock file: wait for it. labbook removes a lock only when it proves a labbook process that is gone left it; if no such command is running, delete the .lock file named in the message.',
    mlflow: 'TEMPORARILY_UNAVAILABLE', exit: 1,
  },
  GIT_FAILED: {
    title: 'A git command failed',
    hint: 'Install git (2.30 or newer) and make sure it is on PATH; the message shows git\'s own error.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  IO_FAILED: {
    title: 'Reading or writing a file failed',
    hint: 'Check free disk space and the permissions of the path in the message.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  SITE_DEPS_MISSING: {
    title: 'The site stack is not installed',
    hint: 'The site build needs Astro, React and Observable Plot, which `npm install labbook` leaves out (optional peer dependencies): install them where the site is built with the command in the message.',
    mlflow: 'INTERNAL_ERROR', exit: 1,
  },
  COMMIT_MISSING: {
    title: 'The commit a run ran on is not in this clone',
    hint: 'Fetch the branch that has it (`git fetch origin BRANCH`), then try again.',
    mlflow: 'RESOURCE_DOES_NOT_EXIST', exit: 1,
  },
  DIFF_NOT_APPLIED: {
    title: 'A run\'s recorded uncommitted changes do not apply to its commit',
    hint: 'The diff artifact (labbook/uncommitted.diff) is shown by `labbook artifact get RUN labbook/uncommitted.diff`; apply it by hand and run the command with `labbook run`.',
    mlflow: 'INVALID_STATE', exit: 1,
  },
  NOT_REPRODUCIBLE: {
    title: 'A run lacks what is needed to run it again',
    hint: 'Only runs recorded by `labbook run` in a git checkout keep their commit and command; rerun this one yourself with `labbook run -- COMMAND`.',
    mlflow: 'INVALID_STATE', exit: 1,
  },
  USAGE: {
    title: 'The command line is not valid',
    hint: 'Run `labbook <command> --help` for its options and examples.',
    mlflow: 'INVALID_PARAMETER_VALUE', exit: 2,
  },
} as const satisfies Record<string, ErrorInfo>

/** Every error labbook raises on purpose carries one of these codes; names never change. */
export type ErrorCode = keyof typeof catalog

/** The catalog, readable by code (docs generator, server mapping, CLI exit codes). */
export const ERRORS: Readonly<Record<ErrorCode, ErrorInfo>> = catalog

/** The one error class of labbook: a stable `code`, a message (what happened and why) and a hint (what to do). */
export class LabbookError extends Error {
  override name = 'LabbookError'
  /** What to do; the catalog's hint for the code when the throw site gives none. */
  readonly hint: string
  constructor(
    readonly code: ErrorCode,
    message: string,
    hint?: string,
    readonly data: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.hint = hint ?? ERRORS[code]?.hint ?? ''
  }
}

export interface FailOptions {
  /** A hint more specific than the catalog's. */
  hint?: string
  /** Values the caller may want (ids, paths), kept out of the message. */
  data?: Record<string, unknown>
  cause?: unknown
}

/**
 * A LabbookError of `code` with the catalog's hint unless a more specific one is given.
 * @example throw fail('RUN_NOT_FOUND', `No run "${id}" on the branch.`, { data: { id } })
 */
export function fail(code: ErrorCode, message: string, o: FailOptions = {}): LabbookError {
  return new LabbookError(code, message, o.hint, o.data, o.cause === undefined ? undefined : { cause: o.cause })
}

export function isLabbookError(e: unknown, code?: ErrorCode): e is LabbookError {
  return e instanceof LabbookError && (code === undefined || e.code === code)
}
