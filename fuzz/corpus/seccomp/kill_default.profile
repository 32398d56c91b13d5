default kill
allow read write exit_group execve
kill clone arg0 has 0x7e020000
