/** Readable default run names in MLflow's manner ("bright-fox-42"), so lists are not walls of ids. */
const ADJECTIVES = ['able', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'eager', 'fair', 'fast', 'gentle', 'glad', 'grand', 'honest', 'keen', 'kind', 'lively', 'lucky', 'merry', 'neat', 'nimble', 'noble', 'polite', 'proud', 'quick', 'quiet', 'rare', 'sharp', 'shy', 'smart', 'steady', 'sunny', 'swift', 'tidy', 'vast', 'warm', 'wise', 'witty', 'young', 'zesty']
const NOUNS = ['ant', 'bass', 'bear', 'bee', 'bird', 'cat', 'colt', 'crab', 'crow', 'deer', 'dove', 'duck', 'eel', 'elk', 'finch', 'fox', 'frog', 'gnat', 'goat', 'hare', 'hawk', 'horse', 'jay', 'koala', 'lamb', 'lark', 'lynx', 'mole', 'moth', 'newt', 'owl', 'ox', 'panda', 'pike', 'ram', 'seal', 'snail', 'swan', 'toad', 'wolf', 'wren', 'yak']

export function randomRunName(): string {
  const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)]!
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`
}
