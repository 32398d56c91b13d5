default allow
include ../etc
