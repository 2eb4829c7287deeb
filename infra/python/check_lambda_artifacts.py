"""Checks function binaries built for AWS Lambda's provided.al2023 runtime on arm64.

    check_lambda_artifacts.py [--max-bytes N] BOOTSTRAP...

Each file must be what the runtime can start: a 64-bit little-endian ELF executable for AArch64
whose program interpreter is the AArch64 glibc loader, that needs no shared library outside
glibc and libgcc_s (the runtime's image has nothing else) and no glibc symbol version newer than
Amazon Linux 2023's glibc 2.34, and no larger than Lambda's 250 MiB unzipped limit (or
--max-bytes). Prints one line per file; exits 1 naming every file and rule that failed.
"""

import argparse
import os
import sys

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

INTERPRETER = "/lib/ld-linux-aarch64.so.1"
GLIBC_MAX = (2, 34)
LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libgcc_s.so.1",
    "ld-linux-aarch64.so.1",
}
LAMBDA_UNZIPPED_MAX = 250 * 1024 * 1024


def glibc_version(name):
    """(2, 30) for "GLIBC_2.30"; None for any other version name."""
    if not name.startswith("GLIBC_"):
        return None
    try:
        return tuple(int(p) for p in name[len("GLIBC_"):].split("."))
    except ValueError:
        return None


def problems(path, max_bytes):
    """The rules `path` breaks, and a summary of what it is."""
    found = []
    size = os.path.getsize(path)
    if size > max_bytes:
        found.append(f"{size:,} bytes, over {max_bytes:,}")
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return [*found, "not an ELF file"], f"{size:,} bytes"
        f.seek(0)
        elf = ELFFile(f)
        if elf.elfclass != 64 or not elf.little_endian:
            found.append(f"ELF{elf.elfclass}, little endian {elf.little_endian}")
        if elf["e_machine"] != "EM_AARCH64":
            found.append(f"machine {elf['e_machine']}, not EM_AARCH64")
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            found.append(f"type {elf['e_type']}, not an executable")
        interpreters = [
            seg.get_interp_name() for seg in elf.iter_segments() if seg["p_type"] == "PT_INTERP"
        ]
        if interpreters != [INTERPRETER]:
            found.append(f"interpreter {interpreters}, not {INTERPRETER}")
        needed, newest = [], (0, 0)
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                needed += [t.needed for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            if isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        version = glibc_version(aux.name)
                        if version and version > newest:
                            newest = version
        outside = sorted(set(needed) - LIBRARIES)
        if outside:
            found.append(f"needs {outside}, which the runtime's image lacks")
        if newest > GLIBC_MAX:
            found.append(
                f"needs GLIBC_{'.'.join(map(str, newest))}, newer than "
                f"Amazon Linux 2023's {'.'.join(map(str, GLIBC_MAX))}"
            )
    summary = (
        f"{size:,} bytes, {elf['e_machine']}, {interpreters[0] if interpreters else 'static'}, "
        f"needs {', '.join(sorted(needed))}; newest glibc symbol GLIBC_{'.'.join(map(str, newest))}"
    )
    return found, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-bytes", type=int, default=LAMBDA_UNZIPPED_MAX)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    failed = False
    for path in args.files:
        if not os.path.isfile(path):
            print(f"{path}: missing", file=sys.stderr)
            failed = True
            continue
        found, summary = problems(path, args.max_bytes)
        if found:
            failed = True
            print(f"{path}: {'; '.join(found)} ({summary})", file=sys.stderr)
        else:
            print(f"{path}: ok: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
