#!/usr/bin/env bash
# The layout rules of ../shared/STYLE.md as a check: prints every violation as file:line and
# exits 1 when there is one.
#   - ext/ has no bit-walk intrinsics (__builtin_ctz/clz/popcount, std::popcount/countr_zero),
#     no kernel-table calls (kernels(), kernels_for), no `#include "bebr/simd.hpp"`, and no magic
#     byte offsets into a format (`load_u32(p + 20)`, `store_u32(code.data() + 12, ..)`, `p[5]`,
#     `memcpy(.., body + 4, 4)`): core/ reads and writes the formats;
#   - core/ never includes sqlite3.h or sqlite3ext.h;
#   - no source file (.c .h .cpp .hpp under core/ ext/ tests/ bench/ examples/) over 500 lines;
#   - no function over 80 lines (signature to closing brace) without a comment line directly
#     above it saying why (a brace-depth scan: rough, but it finds every long one).
# Comments and string literals are ignored by the ext/ and core/ patterns.
#   bash scripts/check-layout.sh            # the tree this script is in
#   bash scripts/check-layout.sh DIR        # another checkout
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
exec python3 - <<'EOF'
import os, re, sys

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
SOURCE_DIRS = ["core", "ext", "tests", "bench", "examples"]
EXTENSIONS = (".c", ".h", ".cpp", ".hpp")

BYTE_READ = r"\b(p|ptr|b|blob|bytes|buf|data|code|header|body|in|out)\s*\[\s*\d+\s*\]"

def declares_array(line, m):
    """`char buf[8]`: the subscript declares an array, it reads nothing."""
    before = line[:m.start()].rstrip()
    word = re.search(r"([\w:]+)\s*[*&]?$", before)
    return bool(word) and (word.group(1) in ("char", "int", "float", "double", "bool", "long", "short", "unsigned",
                                               "auto", "std::byte") or word.group(1).endswith("_t"))

# (pattern, what is wrong) for ext/, matched on code with comments and strings blanked.
EXT_RULES = [
    (r"__builtin_(ctz|clz|popcount|ffs|parity)\w*", "bit-walk intrinsic in ext/ (core's for_each_set_bit and kernels do bits)"),
    (r"\bstd::(popcount|countr_zero|countl_zero|countr_one|countl_one)\b", "bit-walk intrinsic in ext/ (core does bits)"),
    (r"\bkernels\s*\(\s*\)", "kernel-table call in ext/ (core calls kernels)"),
    (r"\bkernels_for\b", "kernel-table lookup in ext/ (core picks kernels)"),
    (r"\b(load|store)_(u8|u16|u32|u64|i32|i64|f32)\s*\([^;]*?\+\s*\d+\s*[,)]",
     "load/store at a literal byte offset in ext/ (a format's layout belongs to core)"),
    (r"\bmem(cpy|cmp|move)\s*\([^;]*?\+\s*\d+\s*[,)]", "memcpy at a literal byte offset in ext/ (name the field, in core)"),
    (BYTE_READ, "byte read at a literal offset in ext/"),
    (r"\.data\(\)\s*\+\s*\d+\b(?!\s*[*/])", "pointer at a literal byte offset in ext/"),
]
EXT_INCLUDE_RULES = [(r'#\s*include\s*["<]bebr/simd\.hpp[">]', "ext/ includes the private kernel table bebr/simd.hpp")]
CORE_INCLUDE_RULES = [(r'#\s*include\s*["<]sqlite3(ext)?\.h[">]', "core/ includes SQLite")]

def sources():
    for top in SOURCE_DIRS:
        for dirpath, dirnames, files in os.walk(top):
            dirnames.sort()
            for f in sorted(files):
                if f.endswith(EXTENSIONS):
                    yield os.path.join(dirpath, f)

def blank_comments_and_strings(text):
    """Comments and string/char literals replaced by spaces, line breaks kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c); i += 1; continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + '"'); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else c); i = j
        else:
            out.append(c); i += 1
    return "".join(out)

CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try)\b")
SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$|\bextern\s*\"[^\"]*\"\s*$")
FUNCTION = re.compile(r"\)\s*(const|noexcept(\s*\([^)]*\))?|override|final|mutable|&|&&|->\s*[\w:<>,\s*&\[\]]+|\s)*$"
                      r"|\)\s*(const\s*)?(noexcept\s*)?:\s*[^;]*[)}]\s*$")
LAMBDA = re.compile(r"\]\s*(\(.*\))?\s*(mutable\s*)?(noexcept\s*)?(->\s*[\w:<>]+\s*)?$")
ACCESS = re.compile(r"\s*(public|private|protected)\s*:")

def functions(code):
    """(first line, last line, header) of each function body outside other function bodies.

    Outside a function every brace opens a scope (namespace, class, enum, extern "C"), a
    function body (the text before it ends like a signature: `)` plus qualifiers, or a
    constructor's initialisers) or an initialiser (`x{..}`, `= {..}`), which does not end the
    declaration it is part of. Inside a function every brace is a block."""
    keep, cont = [], False
    for line in code.split("\n"):  # preprocessor lines take no part
        pp = cont or line.lstrip().startswith("#")
        cont = pp and line.rstrip().endswith("\\")
        keep.append("" if pp else line)
    stack = []  # (kind, first line, header) of each open brace
    header, header_line = "", None
    found = []
    for ln, line in enumerate(keep, 1):
        for ch in line:
            in_func = any(k in ("func", "block") for k, _, _ in stack)
            if ch == "{":
                h = header.strip()
                if in_func:
                    kind = "block"
                elif stack and stack[-1][0] == "init":
                    kind = "init"
                elif SCOPE.search(h):
                    kind = "scope"
                elif FUNCTION.search(h) and not CONTROL.search(h) and not LAMBDA.search(h):
                    kind = "func"
                else:
                    kind = "init"
                stack.append((kind, header_line or ln, h))
                if kind != "init":
                    header, header_line = "", None
            elif ch == "}":
                kind, start, h = stack.pop() if stack else ("block", ln, "")
                if kind == "func":
                    found.append((start, ln, h))
                if kind == "init":
                    header += "{}"
                else:
                    header, header_line = "", None
            elif ch == ";" and not in_func and not (stack and stack[-1][0] == "init"):
                header, header_line = "", None
            elif not in_func:
                if not ch.isspace() and header_line is None:
                    header_line = ln
                header += ch
                if ch == ":" and ACCESS.fullmatch(header):
                    header, header_line = "", None
        header += " "
    return found

def comment_above(raw_lines, first):
    """The line just above `first` (1-based) is a comment."""
    if first < 2:
        return False
    above = raw_lines[first - 2].strip()
    return above.startswith("//") or above.startswith("/*") or above.endswith("*/") or above.startswith("*")

errors = []
for path in sources():
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    raw = text.split("\n")
    count = len(raw) - (1 if text.endswith("\n") else 0)
    if count > MAX_FILE_LINES:
        errors.append(f"{path}:1: {count} lines (at most {MAX_FILE_LINES} a source file)")
    code = blank_comments_and_strings(text)
    code_lines = code.split("\n")
    top = path.split(os.sep)[0]
    rules = []
    if top == "ext":
        rules = [(re.compile(p), w, code_lines) for p, w in EXT_RULES] + \
                [(re.compile(p), w, raw) for p, w in EXT_INCLUDE_RULES]
    elif top == "core":
        rules = [(re.compile(p), w, raw) for p, w in CORE_INCLUDE_RULES]
    flagged = {}  # line -> spans already reported (two rules on one expression: the first)
    for rx, what, lines in rules:
        for ln, line in enumerate(lines, 1):
            for m in rx.finditer(line):
                if rx.pattern == BYTE_READ and declares_array(line, m):
                    continue
                spans = flagged.setdefault(ln, [])
                if any(m.start() < b and a < m.end() for a, b in spans):
                    continue
                spans.append(m.span())
                errors.append(f"{path}:{ln}: {what}: `{m.group(0).strip()}`")
    for first, last, h in functions(code):
        length = last - first + 1
        if length > MAX_FUNCTION_LINES and not comment_above(raw, first):
            name = re.sub(r"\s+", " ", h.split("(")[0]).strip().split(" ")[-1] or "?"
            errors.append(f"{path}:{first}: function {name} is {length} lines (over {MAX_FUNCTION_LINES}) "
                          "with no comment above it saying why")

errors.sort(key=lambda e: (e.split(":")[0], int(e.split(":")[1])))
for e in errors:
    print(e)
if errors:
    print(f"check-layout: {len(errors)} violation{'s' if len(errors) != 1 else ''}", file=sys.stderr)
    sys.exit(1)
print("check-layout: the tree follows the layout rules", file=sys.stderr)
EOF
