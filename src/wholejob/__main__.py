"""``python -m wholejob``: the ``wholejob`` command, for when the script is not on PATH."""

from wholejob.cli.app import main

if __name__ == "__main__":
    main()
