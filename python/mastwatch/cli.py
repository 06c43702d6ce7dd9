"""What every command-line entry point shares: quiet on a closed pipe."""
import os
import signal
import sys


def run(main, argv=None):
    """Runs main(argv) and exits with its status. A reader that went away (`| head -1`) ends
    the program quietly, like any Unix filter, instead of a BrokenPipeError traceback."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        status = main(sys.argv if argv is None else argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # SIG_DFL makes this rare; when it happens, keep the interpreter's final flush silent
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    except KeyboardInterrupt:
        status = 130
    sys.exit(status)
