import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  /** Everything the child wrote so far, stdout and stderr interleaved as they arrived. */
  text(): string;
  /**
   * Resolves with the first match of `pattern` in the output as soon as a chunk completes it. Rejects,
   * with the output so far, when the child's output ends first or after `guardMs`: the bound only turns
   * a child that never gets there into a clear failure instead of a hung test.
   */
  waitFor(pattern: RegExp, guardMs: number): Promise<RegExpMatchArray>;
}

/** Collects a child process's output from now on; the child must have been spawned with piped stdout and stderr. */
export function watchOutput(child: ChildProcess): ChildOutput {
  let output = '';
  // 'close' comes after the process ended and its pipes were read to the end.
  let closed = false;
  const onData = (chunk: Buffer) => (output += chunk.toString());
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('close', () => (closed = true));
  return {
    text: () => output,
    waitFor(pattern, guardMs) {
      return new Promise((resolve, reject) => {
        const stop = () => {
          clearTimeout(guard);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
          child.off('close', onClose);
        };
        const check = () => {
          const match = output.match(pattern);
          if (match === null) return false;
          stop();
          resolve(match);
          return true;
        };
        const onClose = () => {
          if (check()) return;
          stop();
          reject(new Error(`the child ended (exit code ${String(child.exitCode)}) without printing ${pattern}:\n${output}`));
        };
        const guard = setTimeout(() => {
          stop();
          reject(new Error(`no ${pattern} within ${guardMs} ms:\n${output}`));
        }, guardMs);
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        child.once('close', onClose);
        if (!check() && closed) onClose();
      });
    },
  };
}
