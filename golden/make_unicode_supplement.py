#!/usr/bin/env python3
"""make_unicode_supplement.py: core/unicode_supplement.h, the code points that the Unicode
version of Hugging Face tokenizers' regex engine (Oniguruma) puts in a general category
while the Unicode version of goldpath's PCRE2 (Debian's; Python's unicodedata of the same
version stands for it here) leaves them unassigned: characters added to Unicode since.
core/tokenizer_text.cpp adds them to \\p{X} so that pre-tokenizer classes split new
characters (emoji, letters of new scripts) as tokenizers does.

    .venv-golden/bin/python golden/make_unicode_supplement.py 14.0.0   # PCRE2's Unicode version
"""
import os
import sys
import unicodedata

from tokenizers import Regex, normalizers

CATEGORIES = ["L", "M", "N", "P", "S", "Z"]


def main():
    want = sys.argv[1] if len(sys.argv) > 1 else ""
    assert unicodedata.unidata_version == want, (
        f"this Python's unicodedata is {unicodedata.unidata_version}; run with a Python whose Unicode version is "
        f"PCRE2's ({want})")
    # unassigned here, not surrogates (tokenizers' strings are UTF-8)
    cands = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cn" and not 0xD800 <= c < 0xE000]
    text = "".join(chr(c) for c in cands)
    out = {}
    for cat in CATEGORIES:
        kept = normalizers.Replace(Regex(r"\p{" + cat + "}"), "").normalize_str(text)
        gone = sorted(set(cands) - {ord(ch) for ch in kept})
        ranges = []
        for c in gone:
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
        out[cat] = ranges
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "core", "unicode_supplement.h")
    lines = [
        "// unicode_supplement.h: made by golden/make_unicode_supplement.py (do not edit). Code points",
        f"// unassigned in Unicode {want} (PCRE2's tables) that Hugging Face tokenizers' Oniguruma puts",
        "// in a general category, as PCRE2 class ranges per category.",
        "#pragma once",
        "",
        "namespace gp::tok {",
        "",
        f'constexpr const char* kUnicodeSupplementBase = "{want}";',
        "struct UnicodeSupplement {",
        "  char category;",
        "  const char* ranges;  // inside a PCRE2 character class",
        "};",
        "constexpr UnicodeSupplement kUnicodeSupplement[] = {",
    ]
    for cat in CATEGORIES:
        rs = "".join(f"\\\\x{{{a:X}}}" if a == b else f"\\\\x{{{a:X}}}-\\\\x{{{b:X}}}" for a, b in out[cat])
        lines.append(f"    {{'{cat}', \"{rs}\"}},")
        print(f"{cat}: {sum(b - a + 1 for a, b in out[cat])} code points in {len(out[cat])} ranges", file=sys.stderr)
    lines += ["};", "", "}  // namespace gp::tok", ""]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
