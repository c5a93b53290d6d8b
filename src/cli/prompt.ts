import readline from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, ExitCode } from './errors.js';

export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  /**
   * Whether the input is a terminal that readline should drive; by default, whether it is a TTY.
   */
  terminal?: boolean;
}

const canceled = () => new CliError(ExitCode.failure, 'Canceled.', { code: 'Canceled' });

/**
 * Asks a question on the terminal and reads the answer without showing it: readline drives the
 * terminal in raw mode and echoes each key, and that echo goes to a sink that drops it once the
 * question is written. The prompt goes to stderr, so stdout stays clean for --json.
 */
export async function askHidden(
  question: string,
  streams: PromptStreams = { input: process.stdin, output: process.stderr },
): Promise<string> {
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (!muted) streams.output.write(chunk);
      callback();
    },
  });
  const rl = readline.createInterface({
    input: streams.input,
    output: sink,
    terminal: streams.terminal ?? Boolean(streams.input.isTTY),
  });

  try {
    streams.output.write(question);
    muted = true;
    return await nextAnswer(rl);
  } finally {
    muted = false;
    streams.output.write('\n');
    rl.close();
  }
}

/** Asks a question on the terminal and reads the answer as it is typed. */
export async function ask(
  question: string,
  streams: PromptStreams = { input: process.stdin, output: process.stderr },
): Promise<string> {
  const rl = readline.createInterface({
    input: streams.input,
    output: streams.output,
    terminal: streams.terminal ?? Boolean(streams.input.isTTY),
  });
  try {
    streams.output.write(question);
    return await nextAnswer(rl);
  } finally {
    rl.close();
  }
}

/**
 * Lines of a piped standard input, one at a time, for scripts: `--password-stdin` takes the
 * first line as the password and, when a one-time code is needed, the next line as the code.
 */
export class InputLines {
  private readonly buffered: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private ended = false;
  private readonly rl: readline.Interface;

  constructor(input: NodeJS.ReadableStream = process.stdin) {
    this.rl = readline.createInterface({ input, terminal: false });
    this.rl.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.buffered.push(line);
    });
    this.rl.on('close', () => {
      this.ended = true;
      for (const waiter of this.waiting.splice(0)) waiter(null);
    });
  }

  /** The next line, or null once the input has ended. */
  next(): Promise<string | null> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops reading, so that an input left open does not keep the command running. */
  close(): void {
    this.rl.close();
  }
}

/** Whether people can be asked questions: both ends of the conversation are a terminal. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}

function nextAnswer(rl: readline.Interface): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    rl.once('SIGINT', () => reject(canceled()));
    rl.once('close', () => reject(canceled()));
  });
}
