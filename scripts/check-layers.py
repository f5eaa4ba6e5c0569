#!/usr/bin/python3
"""The layer rules of docs/architecture.md, checked on what the compiler really includes.

Every translation unit is preprocessed with its own compile command from the build's
compile_commands.json plus -M, which lists its headers transitively (system ones too), so an
include hidden three headers deep counts as much as one in the file itself. Rules:

1. Pure (sans-IO) modules reach no Boost.Asio/Beast and no socket header. Pure modules are the
   library targets defined in PURE_DIRS (a directory listed there is picked up as soon as it
   exists and is built) plus PURE_TARGETS; CMake writes which sources make each target to
   BUILD/layers_targets.tsv (tests/CMakeLists.txt).
2. Each public header include/peerwire/*.hpp, compiled alone, reaches nothing under boost/ or
   openssl/, and no private header under src/.
3. The CLI (app/) reaches no header under src/: it uses the library through its public headers.

Usage: check-layers.py BUILD_DIR [SOURCE_DIR]. Exit 0 and a summary when every rule holds;
exit 1 naming each file, the forbidden header and the include chain to it otherwise.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

PURE_DIRS = ["core", "bencode", "metainfo", "magnet", "wire", "ext", "picker", "choker",
             "tracker_server", "mse", "utp", "krpc", "merkle"]
# The pure half of a module that also has IO.
PURE_TARGETS = ["peerwire_tracker_proto"]

SOCKET_HEADERS = re.compile(
    r"/(sys/socket\.h|arpa/inet\.h|netdb\.h|sys/epoll\.h|netinet/[^/]+|linux/[^/]*socket[^/]*)$")
ASIO_OR_BEAST = re.compile(r"/boost/(asio|beast)(/|\.hpp$)")
BOOST_OR_OPENSSL = re.compile(r"/(boost|openssl)/")
CPP_SOURCE = re.compile(r"\.(cpp|cc|cxx)$")


def fail(message):
    print(f"check-layers: {message}", file=sys.stderr)
    sys.exit(1)


def io_header(path):
    if ASIO_OR_BEAST.search(path):
        return "Boost.Asio/Beast"
    if SOCKET_HEADERS.search(path):
        return "a socket header"
    return None


class Compiler:
    """Runs one translation unit's real compile command, preprocessing only."""

    def __init__(self, entry):
        self.directory = entry["directory"]
        args = entry.get("arguments") or shlex.split(entry["command"])
        if os.path.basename(args[0]) == "ccache":
            args = args[1:]
        self.file = entry["file"]
        kept, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-MF", "-MT", "-MQ"):
                skip = True  # and the argument that follows
            elif a in ("-c", "-MD", "-MMD") or a == self.file:
                pass
            else:
                kept.append(a)
        self.flags = kept  # compiler and flags, no input, output or dependency file

    def run(self, source, extra):
        cmd = self.flags + extra + [source]
        return subprocess.run(cmd, cwd=self.directory, capture_output=True, text=True)

    def headers(self, source):
        """Every file the source includes, transitively, as normalised absolute paths."""
        proc = self.run(source, ["-M"])
        if proc.returncode != 0:
            fail(f"cannot preprocess {source}:\n{proc.stderr}")
        text = proc.stdout.replace("\\\n", " ")
        words = re.split(r"(?<!\\)\s+", text.strip())
        while words and not words[0].endswith(":"):
            words.pop(0)  # the object file name (possibly with escaped spaces)
        paths = [w.replace("\\ ", " ") for w in words[1:] if w]
        return [os.path.normpath(os.path.join(self.directory, p)) for p in paths[1:]]

    def chain(self, source, header):
        """The include chain from `source` to `header` (from gcc -H), for the message."""
        proc = self.run(source, ["-E", "-H", "-o", os.devnull])
        stack = []
        for line in proc.stderr.splitlines():
            m = re.match(r"^(\.+) (.*)$", line)
            if not m:
                continue
            depth = len(m.group(1))
            path = os.path.normpath(os.path.join(self.directory, m.group(2)))
            del stack[depth - 1:]
            stack.append(path)
            if path == header:
                return stack
        return [header]


def load_targets(build):
    """target -> absolute source paths, from the file CMake generated."""
    path = os.path.join(build, "layers_targets.tsv")
    if not os.path.exists(path):
        fail(f"{path} is missing: configure the build with CMake first")
    targets = {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3:
                continue
            name, directory, sources = fields
            targets[name] = (directory, [os.path.normpath(os.path.join(directory, s))
                                         for s in sources.split(";") if s])
    return targets


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: check-layers.py BUILD_DIR [SOURCE_DIR]")
    build = os.path.abspath(sys.argv[1])
    root = os.path.abspath(sys.argv[2] if len(sys.argv) == 3 else
                           os.path.join(os.path.dirname(__file__), ".."))
    src_dir = os.path.join(root, "src") + os.sep
    app_dir = os.path.join(root, "app") + os.sep
    try:
        with open(os.path.join(build, "compile_commands.json")) as f:
            entries = {os.path.normpath(e["file"]): e for e in json.load(f)}
    except OSError as e:
        fail(f"cannot read compile_commands.json: {e}")
    targets = load_targets(build)

    pure_dirs = {os.path.join(root, "src", d) for d in PURE_DIRS}
    pure = {}  # source -> target
    for name, (directory, sources) in targets.items():
        if os.path.normpath(directory) in pure_dirs or name in PURE_TARGETS:
            for s in sources:
                if CPP_SOURCE.search(s):
                    pure[s] = name
    missing = [s for s in pure if s not in entries]
    if missing:
        fail("not in compile_commands.json (stale build?): " + ", ".join(missing))
    if not pure:
        fail("no pure translation unit found: is layers_targets.tsv right?")
    app = sorted(f for f in entries if f.startswith(app_dir))
    if not app:
        fail("no app/ translation unit in compile_commands.json")

    jobs = []  # (label, compiler, source, rule): rule(header) -> reason or None
    for s in sorted(pure):
        jobs.append((s, Compiler(entries[s]), s, io_header))

    def in_src(header):
        return "a private header under src/" if header.startswith(src_dir) else None

    def boost_openssl_or_src(header):
        return "Boost or OpenSSL" if BOOST_OR_OPENSSL.search(header) else in_src(header)

    for s in app:
        jobs.append((s, Compiler(entries[s]), s, in_src))

    tmp = tempfile.TemporaryDirectory(prefix="check-layers-")
    public_dir = os.path.join(root, "include", "peerwire")
    public = sorted(h for h in os.listdir(public_dir) if h.endswith(".hpp"))
    # The app's flags see every module's include directories, like any user of the library.
    app_compiler = Compiler(entries[app[0]])
    for h in public:
        tu = os.path.join(tmp.name, h.replace(".hpp", ".cpp"))
        with open(tu, "w") as f:
            f.write(f'#include "peerwire/{h}"\n')
        jobs.append((os.path.join(public_dir, h), app_compiler, tu, boost_openssl_or_src))

    def check(job):
        label, compiler, source, rule = job
        headers = compiler.headers(source)
        for header in headers:
            reason = rule(header)
            if reason:
                chain = compiler.chain(source, header)
                return len(headers), (label, header, reason, chain)
        return len(headers), None

    workers = min(4, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check, jobs))
    total = sum(n for n, _ in results)
    problems = [p for _, p in results if p]

    modules = sorted({pure[s] for s in pure})
    print(f"check-layers: checked {len(pure)} pure translation units ({', '.join(modules)}), "
          f"{len(public)} public headers, {len(app)} app translation units; "
          f"{total} header dependencies in all")
    sys.stdout.flush()
    for label, header, reason, chain in problems:
        where = os.path.relpath(label, root)
        print(f"FAIL {where}: includes {reason}: {header}", file=sys.stderr)
        for depth, step in enumerate(chain):
            print(f"       {'  ' * depth}via {step}", file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} file(s) break the layer rules", file=sys.stderr)
        return 1
    print("check-layers: OK: pure modules reach no Asio/Beast or socket header, public headers "
          "no Boost/OpenSSL/src header, the app no src/ header")
    return 0


if __name__ == "__main__":
    sys.exit(main())
