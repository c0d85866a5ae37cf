"""`python -m dlsr` runs the command-line tool."""

from dlsr.cli import main

main()
