"""``python -m attention_transport`` and the ``attention-transport`` console command.

The command enters here rather than in :mod:`attention_transport.cli` so that a
Ctrl-C while the command's modules are still importing (numpy, sympy: about a
second) ends like one during the run: one line and status 130, no traceback.
"""
import sys


def run():
    """Import the command line and run it; exit with its status."""
    try:
        from attention_transport.cli import main

        code = main()
    except KeyboardInterrupt:
        print("attention-transport: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
