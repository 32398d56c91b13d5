default allow
kill ioctl arg1 eq 0x100000000
