"""`python -m toolkit` behaves exactly like the `leanserve` console script."""

from toolkit.cli import main

if __name__ == "__main__":
    main(prog_name="leanserve")
