#!/usr/bin/env python3
"""Writes the module images the CUDA gate's end-to-end test loads, without nvcc: a cubin-shaped ELF, a fatbin that
wraps it (plus PTX), PTX text, the stand-in's test format, and an impostor with the same kernel names but other bytes.
The images only need to be what the stand-in driver (and the gate's hashing) parse: ELF64 for EM_CUDA with one
`.text.<kernel>` section per kernel, the fatbin container, `.entry` lines. Text images end with a NUL so that the file
and the image passed by pointer (strlen + 1 bytes) hash the same.

Usage: make-modules.py OUT_DIR"""
import os
import struct
import sys

KERNELS = ["omega_allowed", "omega_other", "omega_denied"]
EM_CUDA = 190
SM = 90


def strtab(names):
    """A string table and the offset of each name in it."""
    data = b"\0"
    offsets = {}
    for name in names:
        offsets[name] = len(data)
        data += name.encode() + b"\0"
    return data, offsets


def cubin(kernels, salt=b""):
    # Sections: null, .shstrtab, .strtab, .symtab, then one .text.<kernel> each. A global device function that
    # lives in a kernel's section (omega_helper) is not a kernel: the stand-in must not report it.
    texts = [".text." + k for k in kernels]
    shstr, sh_off = strtab([".shstrtab", ".strtab", ".symtab"] + texts)
    symbols = kernels + ["omega_helper"]
    sstr, s_off = strtab(symbols)
    code = [(b"\x00\x00\x00\x00" + k.encode() + salt).ljust(32, b"\x90") for k in kernels]

    body = bytearray(b"\0" * 64)
    layout = {}

    def place(name, data, align=8):
        while len(body) % align:
            body.append(0)
        layout[name] = (len(body), len(data))
        body.extend(data)

    place(".shstrtab", shstr, 1)
    place(".strtab", sstr, 1)
    syms = struct.pack("<IBBHQQ", 0, 0, 0, 0, 0, 0)
    for i, k in enumerate(kernels):
        # STB_GLOBAL, STT_FUNC; st_other 0x10 as nvcc marks entry points; section 4 + i.
        syms += struct.pack("<IBBHQQ", s_off[k], 0x12, 0x10, 4 + i, 0, len(code[i]))
    syms += struct.pack("<IBBHQQ", s_off["omega_helper"], 0x12, 0, 4, 16, 16)
    place(".symtab", syms)
    for i, t in enumerate(texts):
        place(t, code[i], 128)

    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    headers = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]

    def section(name, type_, flags, link=0, info=0, align=1, entsize=0):
        off, size = layout[name]
        return struct.pack("<IIQQQQIIQQ", sh_off[name], type_, flags, 0, off, size, link, info, align, entsize)

    headers.append(section(".shstrtab", 3, 0))
    headers.append(section(".strtab", 3, 0))
    headers.append(section(".symtab", 2, 0, link=2, info=1, align=8, entsize=24))
    for t in texts:
        headers.append(section(t, 1, 6, align=128))
    body.extend(b"".join(headers))

    ident = b"\x7fELF" + bytes([2, 1, 1, 0x41, 8]) + b"\0" * 7
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, EM_CUDA, 1, 0, 0, shoff, SM, 64, 56, 0, 64, len(headers), 1)
    body[0:64] = header
    return bytes(body)


def ptx(kernels):
    lines = [".version 8.0", ".target sm_90", ".address_size 64", ""]
    for k in kernels:
        lines += [f".visible .entry {k}(", f"\t.param .u64 {k}_param_0", ")", "{", "\tret;", "}", ""]
    return ("\n".join(lines)).encode()


def fatbin(entries):
    """entries: (kind, arch, payload); kind 2 = ELF, 1 = PTX; uncompressed (flags 0x11 as nvcc writes)."""
    data = b""
    for kind, arch, payload in entries:
        data += struct.pack("<HHIQIIHHIIIQQQ", kind, 0x0101, 64, len(payload), 0, 0, 8, 1, arch, 0, 0, 0x11, 0, 0)
        data += payload
    return struct.pack("<IHHQ", 0xBA55ED50, 1, 16, len(data)) + data


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {
        "kernels.standin": b"OMEGA-STANDIN-MODULE v1\n" + b"".join(b"kernel " + k.encode() + b"\n" for k in KERNELS) + b"\0",
        "impostor.standin": b"OMEGA-STANDIN-MODULE v1\n# same names, not the reviewed module\n"
        + b"".join(b"kernel " + k.encode() + b"\n" for k in KERNELS)
        + b"\0",
        "kernels.cubin": cubin(KERNELS),
        "kernels.ptx": ptx(KERNELS) + b"\0",
        "kernels.fatbin": fatbin([(2, SM, cubin(KERNELS)), (1, SM, ptx(KERNELS) + b"\0")]),
        "impostor.cubin": cubin(KERNELS, salt=b"impostor"),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
