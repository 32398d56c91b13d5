default allow
kill ioctl arg6 eq 1
