#!/usr/bin/env python3
"""lint_pipes.py - no pipeline in our shell scripts ends in a reader
that may stop before its writer is done.

Under `set -o pipefail` (every test and script here, and what the files
they source run under), `writer | grep -q x` fails whenever grep finds
x before the writer has written everything: grep exits, the writer's
next write gets SIGPIPE, the writer's status 141 becomes the
pipeline's, and a check that should pass fails, now and then, with the
load of the machine.  The same holds for every reader that can exit
before the end of its input: grep -q/-m/-l/-L, head, sed with a q
command, awk with exit, read.  Match a file, a variable or a
here-string instead (grep -q x <<<"$out"), or use a reader that reads
everything (grep -c, grep >/dev/null).

  lint_pipes.py SRCDIR   --self, then every shell script under
                         SRCDIR's tests/, scripts/, bench/, .ci/ and
                         fuzz/: exit 1 and a line FILE:LINE: TEXT for
                         each such pipeline
  lint_pipes.py --self   the detector against known cases, exit 1 if
                         it misses one or flags a safe one

The check is textual and errs towards flagging: a `|` inside a quoted
`bash -c '...'` counts too (a nested shell inherits no pipefail today,
but the same text moved out of the quotes would flake).  Heredoc
bodies and comments are not code and are skipped.
"""
import os
import re
import sys

DIRS = ("tests", "scripts", "bench", ".ci", "fuzz")

# grep options that make it stop at the first match (or the first n)
GREP_EARLY_SHORT = set("qmlL")
GREP_EARLY_LONG = ("--quiet", "--silent", "--max-count",
                   "--files-with-matches", "--files-without-match")


def words_of(seg):
    """The words of the first command of seg, unquoted: up to an
    unquoted ; & | ) ` or the end.  An unclosed quote (the end of an
    enclosing bash -c '...') ends the last word."""
    words, w, inword, q = [], "", False, None
    for c in seg:
        if q:
            if c == q:
                q = None
            else:
                w += c
            continue
        if c in "'\"":
            q, inword = c, True
        elif c in ";&|)`\n":
            break
        elif c.isspace():
            if inword:
                words.append(w)
            w, inword = "", False
        else:
            w, inword = w + c, True
    if inword:
        words.append(w)
    return words


def early_reader(seg):
    """Does this pipeline segment (the text after a |) start with a
    reader that may exit before the end of its input?"""
    words = words_of(seg.lstrip().lstrip("!"))
    # a command run through a wrapper still reads the same stdin
    while words and words[0] in ("command", "exec", "time", "nice"):
        words = words[1:]
    if not words:
        return False
    cmd = os.path.basename(words[0])
    args = [w for w in words[1:] if not w.startswith("-")]
    if cmd in ("head", "read"):
        return True
    if cmd in ("grep", "egrep", "fgrep"):
        for w in words[1:]:
            if w == "--" or not w.startswith("-"):
                break
            if w.startswith("--"):
                if w.split("=")[0] in GREP_EARLY_LONG:
                    return True
            elif GREP_EARLY_SHORT & set(w[1:]):
                return True
        return False
    if cmd == "sed":
        # a q or Q command: at the start, or after an address, ; or {
        return any(re.search(r"(^|[\s;{}0-9$/])[qQ]\s*[0-9]*\s*($|[;}\s])",
                             a) for a in args[:1])
    if cmd in ("awk", "gawk", "mawk"):
        return any(re.search(r"\bexit\b", a) for a in args[:1])
    if cmd == "while":
        body = re.split(r"\bdone\b", seg)[0]
        return re.search(r"\bbreak\b", body) is not None
    return False


def pipes(line):
    """The segments after each | of line: not ||, not |& nor \\|."""
    out = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == "|":
            if i + 1 < n and line[i + 1] == "|":
                i += 2
                continue
            out.append(line[i + 1:])
        i += 1
    return out


HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def logical_lines(text):
    """(first line number, joined text) for each logical line: comments
    and heredoc bodies dropped, continuations (a trailing \\, |, && or
    ||) joined."""
    out = []
    buf, start, ends = "", 0, []
    for no, raw in enumerate(text.split("\n"), 1):
        if ends:
            body_end = ends[0]
            if raw.strip() == body_end if raw.startswith("\t") else \
                    raw == body_end:
                ends.pop(0)
            continue
        line = raw
        if line.lstrip().startswith("#"):
            continue
        if not buf:
            start = no
        ends = [m.group(2) for m in HEREDOC.finditer(line)]
        s = line.rstrip()
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        if s.endswith("|") or s.endswith("&&"):
            buf += s + " "
            continue
        out.append((start, buf + line))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def scan_text(text):
    """Line numbers and text of the pipelines ending in an early
    reader."""
    found = []
    for no, line in logical_lines(text):
        for seg in pipes(line):
            if early_reader(seg):
                found.append((no, line.strip()))
                break
    return found


def is_shell(path):
    if path.endswith((".sh", ".bash")):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return re.match(rb"#!.*\b(ba)?sh\b", first) is not None


def scan_tree(src):
    bad = []
    for d in DIRS:
        for root, dirs, files in os.walk(os.path.join(src, d)):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(root, f)
                if not is_shell(p):
                    continue
                with open(p, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for no, line in scan_text(text):
                    bad.append("%s:%d: %s" % (os.path.relpath(p, src), no,
                                              line))
    return bad


SELF_BAD = [
    'printf "%s\\n" "$V" | grep -qx -- "$verb"',
    'ldd "$D" | grep -q libasan',
    'ldd "$D" | grep -Eq "x|y"',
    'x | grep --quiet y',
    'x | grep -m1 y',
    'x | grep -l y',
    'seq 1 9 | head -1',
    'base64 -d <"$f" | head -c 32 | od',
    'x | sed 1q',
    "x | sed -n '/a/{p;q}'",
    "x | awk '/a/ {print; exit}'",
    'x | read -r a b',
    'x |\n    grep -q y',
    'x \\\n    | head -2',
    "bash -c '\"$1\" status | grep -q online' _ \"$CLI\"",
    '! grep a "$f" | grep -q b',
    'grep -q x <<<"abc"\nx | grep -q y',	# <<< is no heredoc
    'x | while read -r l; do [ "$l" = a ] && break; done',
]
SELF_OK = [
    'grep -q x "$f"',
    'grep -q x <<<"$out"',
    'x | grep -c y',
    'x | grep y >/dev/null',
    'x | grep -v y | sort',
    'x | sed -n 1p',
    'x | sed "s/q/Q/"',
    "x | awk '{print $2}'",
    'a || grep -q x "$f"',
    'grep "a\\|b" "$f"',
    "cat <<'EOF'\nx | grep -q y\nEOF",
    '# x | grep -q y',
    'x | tail -1',
    'x | while read -r l; do echo "$l"; done',
]


def self_test():
    bad = 0
    for s in SELF_BAD:
        if not scan_text(s):
            print("missed: %r" % s)
            bad += 1
    for s in SELF_OK:
        if scan_text(s):
            print("flagged a safe one: %r" % s)
            bad += 1
    return bad


def main(argv):
    if len(argv) == 2 and argv[1] == "--self":
        n = self_test()
        print("%d known cases, %d wrong" % (len(SELF_BAD) + len(SELF_OK), n))
        return 1 if n else 0
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    if self_test():
        print("the detector is wrong about a known case: fix it first")
        return 1
    bad = scan_tree(argv[1])
    for b in bad:
        print(b)
    print("%d pipeline(s) ending in a reader that may stop early" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
