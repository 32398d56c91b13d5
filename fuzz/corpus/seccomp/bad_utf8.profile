default allow
kill ptracé
