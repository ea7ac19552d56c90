#!/usr/bin/env python3
"""pty_run.py - run a command on a pseudo-terminal and answer its prompts, as a person would.

usage: pty_run.py [PROMPT ANSWER]... -- COMMAND [ARG]...

Each ANSWER (and a newline) is typed once PROMPT has appeared in the output since the last
answer. The output is copied to stdout; the exit status is the command's. The passphrase
prompts of defter turn echo off and flush pending input after printing the prompt, so an answer
waits for echo to go off (a person reads the prompt first, too).
"""
import os
import pty
import select
import sys
import termios
import time


def wait_for_quiet(fd, prompt):
    """A passphrase prompt types only once the terminal stopped echoing (and flushed)."""
    if b"assphrase" not in prompt:
        return
    for _ in range(30000):  # a safety net of about 300 s, not a speed limit
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            time.sleep(0.01)  # tcsetattr(TCSAFLUSH) has returned by the next read
            return
        time.sleep(0.01)


def main():
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit("usage: pty_run.py [PROMPT ANSWER]... -- COMMAND [ARG]...")
    cut = args.index("--")
    pairs, cmd = args[:cut], args[cut + 1:]
    if len(pairs) % 2 or not cmd:
        sys.exit("usage: pty_run.py [PROMPT ANSWER]... -- COMMAND [ARG]...")
    steps = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen, out = b"", bytearray()
    while True:
        # a safety net against a hung child, not a speed limit
        r, _, _ = select.select([fd], [], [], 300)
        if not r:
            os.kill(pid, 9)
            sys.stderr.write("pty_run: no output for 300 s\n")
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        seen += chunk
        while steps and steps[0][0] in seen:
            seen = seen[seen.index(steps[0][0]) + len(steps[0][0]):]
            wait_for_quiet(fd, steps[0][0])
            os.write(fd, steps[0][1] + b"\n")
            steps.pop(0)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
    if steps:
        sys.stderr.write("pty_run: never saw the prompt %r\n" % steps[0][0].decode())
        sys.exit(125)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
