import { defineCommand } from 'citty'
import { withExamples } from './help.js'
import { runServer, SERVER_ARGS } from './serve.js'

const { 'link-head': _linkHead, 'api-only': _apiOnly, ...UI_ARGS } = SERVER_ARGS

export default withExamples(defineCommand({
  meta: { name: 'ui', description: "Look at runs live: the site of this repo's labbook branch, tables updating as runs log (no MLflow API)" },
  args: { ...UI_ARGS, port: { ...UI_ARGS.port, default: '5050' } },
  run: ({ args }) => runServer(args, 'ui'),
}), [
  'labbook ui                      # http://127.0.0.1:5050',
  'labbook ui --port 0             # any free port',
])
