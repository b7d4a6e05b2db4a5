"""The `wholejob` command line: a thin layer over the library."""
