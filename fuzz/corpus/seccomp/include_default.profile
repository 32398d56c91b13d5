default allow
include default
errno EPERM ioctl arg1 eq 0x5412
network deny
