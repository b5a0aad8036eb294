"""Flips one bit of a bundle section's body: flip.py IN OUT SECTION_TYPE BYTE_IN_BODY [MASK]."""
import struct
import sys

src, dst, kind, at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
mask = int(sys.argv[5], 0) if len(sys.argv) > 5 else 0x01
data = bytearray(open(src, 'rb').read())
count = struct.unpack_from('<I', data, 12)[0]
for i in range(count):
    entry = 64 + 24 * i
    section_type, _, offset, length = struct.unpack_from('<IIQQ', data, entry)
    if section_type == kind:
        assert at < length, 'byte %d is outside the section (%d bytes)' % (at, length)
        data[offset + at] ^= mask
        open(dst, 'wb').write(data)
        sys.exit(0)
sys.exit('no section of type %d' % kind)
