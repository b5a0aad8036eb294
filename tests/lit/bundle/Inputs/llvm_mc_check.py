"""Cross-checks `omegac disasm BUNDLE` against LLVM: every instruction of the listing is fed, as bytes, to
`llvm-mc --disassemble -triple=bpfel`, which must print the same text. gotol has no LLVM 14 syntax and is skipped
(counted). Usage: llvm_mc_check.py OMEGAC LLVM_MC BUNDLE. Prints a summary; exits 1 on the first difference."""
import re
import subprocess
import sys

omegac, llvm_mc, bundle = sys.argv[1:4]
listing = subprocess.run([omegac, 'disasm', bundle], check=True, capture_output=True, text=True).stdout
line_re = re.compile(r'^\s*(\d+): ((?:[0-9a-f]{2} )+)\s*(.*?)\s*(?:#.*)?$')
ours, hex_lines, skipped = [], [], 0
for line in listing.splitlines():
    if line.startswith(';'):
        continue
    m = line_re.match(line)
    if not m:
        sys.exit('unparsed listing line: %r' % line)
    pc, raw, text = m.group(1), m.group(2).split(), m.group(3)
    if raw[0] == '06':  # gotol
        skipped += 1
        continue
    ours.append((pc, text))
    hex_lines.append(' '.join('0x' + b for b in raw))
mc = subprocess.run([llvm_mc, '--disassemble', '-triple=bpfel'], input='\n'.join(hex_lines) + '\n',
                    capture_output=True, text=True)
if mc.returncode != 0 or mc.stderr.strip():
    sys.exit('llvm-mc failed: ' + mc.stderr)
theirs = [l.strip() for l in mc.stdout.splitlines() if l.strip() and not l.strip().startswith('.text')]
if len(theirs) != len(ours):
    sys.exit('llvm-mc decoded %d instructions, omegac listed %d' % (len(theirs), len(ours)))
for (pc, text), llvm in zip(ours, theirs):
    if text != llvm:
        sys.exit('pc %s: omegac says %r, llvm-mc says %r' % (pc, text, llvm))
print('%d instructions decode identically; %d gotol skipped' % (len(ours), skipped))
