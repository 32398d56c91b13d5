# nonet - the default deny-list, and no network whatever the handler's
# policy says: socket() works for AF_UNIX only, every other family
# fails with EAFNOSUPPORT (refused, not killed: bash and friends probe
# sockets at start).
default allow
include default
network deny
