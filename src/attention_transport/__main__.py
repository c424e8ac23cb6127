"""``python -m attention_transport`` and the ``attention-transport`` console command.

The command enters here rather than in :mod:`attention_transport.cli` so that a
Ctrl-C while the command's modules are still importing (numpy, sympy: about a
second) ends like one during the run: one line and status 130, no traceback —
also when mpmath's import swallowed the exception.
"""
import sys


def run():
    """Import the command line and run it; exit with its status.

    A Ctrl-C is remembered from the first line on (:mod:`attention_transport.interrupts`): one that a library
    swallowed during the imports still ends the command before it starts its work.
    """
    from attention_transport import interrupts

    try:
        with interrupts.remembered():
            from attention_transport.cli import main

            if interrupts.requested():
                raise KeyboardInterrupt
            code = main()
    except KeyboardInterrupt:
        print("attention-transport: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
