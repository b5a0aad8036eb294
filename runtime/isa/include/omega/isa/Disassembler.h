// Text for instructions in LLVM's BPF assembly syntax, exactly as `llvm-mc --disassemble -triple=bpfel` (LLVM 14)
// prints it, and a listing of a whole program (pc, bytes, text, optional comment) for `omegac disasm`.
#pragma once

#include "omega/isa/Instruction.h"
#include "omega/isa/Isa.h"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace omega::isa {

// "r0 = 1", "r1 += r2", "if r1 > r2 goto -1", "r1 = 4294967296 ll", ... Where LLVM 14 has no syntax (mod, jset,
// store of an immediate, gotol) the text is that of later LLVM versions: "r1 %= r2", "if r1 & 7 goto +2",
// "*(u64 *)(r10 - 8) = 5", "gotol +70000".
std::string disassemble(const Instruction& insn);
// The instruction in `insn` (with `next` as its second slot when it is a wide load). An instruction that does not
// unmarshal reads "<invalid: MESSAGE>".
std::string disassemble(const Insn& insn, const Insn& next = {});

struct ListingLine {
    std::size_t pc = 0;
    std::vector<Insn> slots;  // one, or two for a wide load
    std::string text;         // disassembly, or "<invalid: ...>"
    bool valid = true;
    std::string comment;  // empty; a caller may fill it in (rule names) before formatting
};

// One line per instruction; an invalid slot gets a line of its own and the listing goes on with the next slot.
std::vector<ListingLine> listing(std::span<const Insn> slots);
// "     0: b7 01 00 00 07 00 00 00  r1 = 7  # comment": pc, the slot bytes (both slots of a wide load on one
// line), text, and the comment after LLVM's comment character when there is one. Ends with a newline.
std::string formatListing(std::span<const ListingLine> lines);

}  // namespace omega::isa
