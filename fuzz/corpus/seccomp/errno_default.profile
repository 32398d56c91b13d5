default errno EPERM
allow read
errno 38 clone3
errno EAFNOSUPPORT socket
