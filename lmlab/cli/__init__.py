"""The `lmlab` command line. `main.py` is the entry point; every other module here is one command
group, found automatically: it defines `register(subparsers, common)` and imports heavy modules
(torch ...) only inside its handlers, so `lmlab --help` stays instant."""
