// Unit tests for the ISA library: the byte encoding, the opcode table, unmarshal/marshal round trips over every
// row, the rejections (unknown opcodes, JMP32 but gotol, cut-off wide loads, reserved fields), gotol's 32-bit
// offset, the disassembler and listing.
#include "omega/isa/Disassembler.h"
#include "omega/isa/Instruction.h"
#include "omega/isa/Isa.h"

#include "IsaSamples.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

using namespace omega::isa;
using isatest::samples;

namespace {

std::vector<Insn> concat(const std::vector<isatest::Sample>& all) {
    std::vector<Insn> slots;
    for (const auto& s : all) slots.insert(slots.end(), s.slots.begin(), s.slots.end());
    return slots;
}

std::string unmarshalError(std::vector<Insn> slots) {
    auto program = unmarshal(std::span<const Insn>(slots));
    return program ? "ok" : program.error().text();
}

std::string marshalError(Program program) {
    auto bytes = marshal(program);
    return bytes ? "ok" : bytes.error().text();
}

}  // namespace

TEST(Encoding, MatchesRfcLayout) {
    // *(u64 *)(r10 - 8) = r1: dst in the low nibble, src in the high nibble, little-endian offset and imm.
    const Insn store{0x7b, 10, 1, -8, 0};
    const std::vector<std::uint8_t> bytes{0x7b, 0x1a, 0xf8, 0xff, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(encode(std::vector<Insn>{store}), bytes);
    const Insn mov{0xb7, 3, 0, 0, -2};
    EXPECT_EQ(encode(std::vector<Insn>{mov}), (std::vector<std::uint8_t>{0xb7, 0x03, 0, 0, 0xfe, 0xff, 0xff, 0xff}));
    auto back = decode(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), std::vector<Insn>{store});
}

TEST(Encoding, RoundTripsEverySample) {
    const std::vector<Insn> slots = concat(samples());
    const std::vector<std::uint8_t> bytes = encode(slots);
    EXPECT_EQ(bytes.size(), slots.size() * kSlotSize);
    auto back = decode(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), slots);
}

TEST(Encoding, RejectsPartialSlot) {
    const std::vector<std::uint8_t> bytes(13, 0);
    auto slots = decode(bytes);
    ASSERT_FALSE(slots);
    EXPECT_EQ(slots.error().text(), "pc 1: truncated instruction: 5 of 8 bytes");
    auto program = unmarshal(std::span<const std::uint8_t>(bytes));
    ASSERT_FALSE(program);
    EXPECT_EQ(program.error().pc, 1u);
}

TEST(OpcodeTable, HasExactlyTheOmegaSubset) {
    std::set<std::uint8_t> opcodes;
    for (const OpcodeInfo& row : opcodeTable()) {
        EXPECT_TRUE(opcodes.insert(row.opcode).second) << "duplicate row";
        EXPECT_EQ(findOpcode(row.opcode), &row);
        if (row.cls == InsnClass::Jmp32) {
            EXPECT_EQ(row.opcode, 0x06);  // gotol only
        }
        EXPECT_NE(row.cls, InsnClass::Alu);
        EXPECT_EQ(row.size != 0, row.access != Access::None);
    }
    EXPECT_EQ(opcodes.size(), 60u);  // 25 ALU64, 25 JMP, gotol, 4 LDX, 2 ST, 2 STX, lddw
    int found = 0;
    for (int op = 0; op < 256; ++op) found += findOpcode(static_cast<std::uint8_t>(op)) != nullptr;
    EXPECT_EQ(found, 60);
    EXPECT_EQ(findOpcode(0x16), nullptr);  // jmp32 jeq
    EXPECT_EQ(findOpcode(0x8f), nullptr);  // neg has no register form
    EXPECT_EQ(findOpcode(0x00), nullptr);  // the second slot of lddw is not an instruction
    const OpcodeInfo* lddw = findOpcode(0x18);
    ASSERT_NE(lddw, nullptr);
    EXPECT_TRUE(lddw->wide);
    EXPECT_EQ(findOpcode(0x79)->size, 8);
    EXPECT_EQ(findOpcode(0x71)->access, Access::Load);
    EXPECT_TRUE(findOpcode(0x85)->call);
    EXPECT_TRUE(findOpcode(0x95)->exit);
    EXPECT_TRUE(findOpcode(0x05)->jump);
    const OpcodeInfo* gotol = findOpcode(0x06);
    ASSERT_NE(gotol, nullptr);
    EXPECT_EQ(gotol->mnemonic, "gotol");
    EXPECT_EQ(gotol->cls, InsnClass::Jmp32);
    EXPECT_TRUE(gotol->jump);
    EXPECT_EQ(gotol->fields, kImm);
    EXPECT_EQ(findOpcode(0x1d)->source, Source::X);
}

TEST(Unmarshal, BuildsSemanticInstructions) {
    const std::vector<Insn> slots{
        {0x0f, 1, 2, 0, 0},                        // r1 += r2
        {0x87, 3, 0, 0, 0},                        // r3 = -r3
        {0x2d, 1, 2, -1, 0},                       // if r1 > r2 goto -1
        {0x45, 4, 0, 3, 8},                        // if r4 & 8 goto +3
        {0x05, 0, 0, 2, 0},                        // goto +2
        {0x85, 0, 0, 0, 1},                        // call 1
        {0x69, 0, 1, 8, 0},                        // r0 = *(u16 *)(r1 + 8)
        {0x7a, 10, 0, -8, 5},                      // *(u64 *)(r10 - 8) = 5
        {0x63, 10, 1, -4, 0},                      // *(u32 *)(r10 - 4) = r1
        {0x18, 1, 0, 0, 0},                        // r1 = 4294967296 ll
        {0x00, 0, 0, 0, 1},   {0x95, 0, 0, 0, 0},  // exit
    };
    auto program = unmarshal(std::span<const Insn>(slots));
    ASSERT_TRUE(program) << program.error().text();
    const Program expected{
        Alu{AluOp::Add, Reg{1}, Reg{2}},
        Alu{AluOp::Neg, Reg{3}, Imm{0}},
        Jmp{Condition{Cond::Gt, Reg{1}, Reg{2}}, -1},
        Jmp{Condition{Cond::Set, Reg{4}, Imm{8}}, 3},
        Jmp{std::nullopt, 2},
        Call{1},
        Load{Width::H, Reg{0}, Reg{1}, 8},
        Store{Width::DW, Reg{10}, -8, Imm{5}},
        Store{Width::W, Reg{10}, -4, Reg{1}},
        LoadImm64{Reg{1}, std::int64_t{1} << 32},
        Exit{},
    };
    EXPECT_EQ(program.value(), expected);
    auto back = marshalSlots(expected);
    ASSERT_TRUE(back) << back.error().text();
    EXPECT_EQ(back.value(), slots);
}

TEST(Unmarshal, RoundTripsEveryTableRow) {
    const auto all = samples();
    std::set<std::uint8_t> covered;
    for (const auto& sample : all) {
        auto program = unmarshal(std::span<const Insn>(sample.slots));
        ASSERT_TRUE(program) << program.error().text();
        ASSERT_EQ(program.value().size(), 1u);
        EXPECT_EQ(slotCount(program.value()[0]), sample.slots.size());
        auto slots = marshalSlots(program.value());
        ASSERT_TRUE(slots) << slots.error().text();
        EXPECT_EQ(slots.value(), sample.slots) << "opcode " << int(sample.row->opcode);
        covered.insert(sample.row->opcode);
    }
    EXPECT_EQ(covered.size(), opcodeTable().size());

    // The whole sample program, through bytes both ways.
    const std::vector<std::uint8_t> bytes = encode(concat(all));
    auto program = unmarshal(std::span<const std::uint8_t>(bytes));
    ASSERT_TRUE(program) << program.error().text();
    EXPECT_EQ(program.value().size(), all.size());
    auto again = marshal(program.value());
    ASSERT_TRUE(again) << again.error().text();
    EXPECT_EQ(again.value(), bytes);
}

TEST(Unmarshal, RejectsEveryOpcodeOutsideTheTable) {
    int rejected = 0;
    for (int op = 0; op < 256; ++op) {
        const auto opcode = static_cast<std::uint8_t>(op);
        if (findOpcode(opcode)) continue;
        const std::string error = unmarshalError({{opcode, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}});
        EXPECT_EQ(error.rfind("pc 0: unknown opcode 0x", 0), 0u) << error;
        ++rejected;
    }
    EXPECT_EQ(rejected, 256 - 60);
}

TEST(Unmarshal, NamesPcAndOpcode) {
    std::vector<Insn> slots(7, Insn{0xb7, 0, 0, 0, 1});
    slots.push_back({0x8f, 1, 2, 0, 0});
    EXPECT_EQ(unmarshalError(slots), "pc 7: unknown opcode 0x8f");
    // pcs count slots, so a wide load moves later pcs by two.
    EXPECT_EQ(unmarshalError({{0x18, 1, 0, 0, 5}, {0, 0, 0, 0, 0}, {0xd4, 1, 0, 0, 16}}),
              "pc 2: unknown opcode 0xd4 (class alu is not accepted)");
}

TEST(Unmarshal, RejectsJmp32ButGotolAndAlu32) {
    EXPECT_EQ(unmarshalError({{0x16, 1, 0, 3, 2}}),
              "pc 0: unknown opcode 0x16 (class jmp32 is not accepted, except gotol 0x06)");
    EXPECT_EQ(unmarshalError({{0x1e, 1, 2, 3, 0}}),
              "pc 0: unknown opcode 0x1e (class jmp32 is not accepted, except gotol 0x06)");
    EXPECT_EQ(unmarshalError({{0x0e, 0, 0, 3, 0}}),
              "pc 0: unknown opcode 0x0e (class jmp32 is not accepted, except gotol 0x06)");  // ja, X form
    EXPECT_EQ(unmarshalError({{0x06, 0, 0, 0, 3}}), "ok");
    EXPECT_EQ(unmarshalError({{0x04, 1, 0, 0, 2}}), "pc 0: unknown opcode 0x04 (class alu is not accepted)");
    EXPECT_EQ(unmarshalError({{0xbc, 1, 2, 0, 0}}), "pc 0: unknown opcode 0xbc (class alu is not accepted)");
}

TEST(Unmarshal, GotolTakesItsOffsetFromImm) {
    // RFC 9669: JMP32 | JA | K, target pc + 1 + imm; dst, src and offset must be 0.
    const std::vector<Insn> slots{{0x06, 0, 0, 0, 70000}, {0x06, 0, 0, 0, -1}, {0x05, 0, 0, 2, 0}};
    EXPECT_EQ(encode(std::vector<Insn>{slots[0]}),
              (std::vector<std::uint8_t>{0x06, 0x00, 0x00, 0x00, 0x70, 0x11, 0x01, 0x00}));
    auto program = unmarshal(std::span<const Insn>(slots));
    ASSERT_TRUE(program) << program.error().text();
    const Program expected{Gotol{70000}, Gotol{-1}, Jmp{std::nullopt, 2}};
    EXPECT_EQ(program.value(), expected);
    // ja and gotol are different instructions, each marshalled to its own opcode whatever the offset.
    EXPECT_NE((Instruction{Gotol{2}}), (Instruction{Jmp{std::nullopt, 2}}));
    auto back = marshalSlots({Gotol{2}, Jmp{std::nullopt, 2}, Gotol{std::numeric_limits<std::int32_t>::min()}});
    ASSERT_TRUE(back) << back.error().text();
    EXPECT_EQ(back.value(),
              (std::vector<Insn>{
                  {0x06, 0, 0, 0, 2}, {0x05, 0, 0, 2, 0}, {0x06, 0, 0, 0, std::numeric_limits<std::int32_t>::min()}}));
}

TEST(Unmarshal, RejectsGotolWithOtherFieldsSet) {
    EXPECT_EQ(unmarshalError({{0x06, 0, 0, 3, 0}}), "pc 0: opcode 0x06 (gotol): offset must be 0, is 3");
    EXPECT_EQ(unmarshalError({{0x06, 0, 0, -1, 5}}), "pc 0: opcode 0x06 (gotol): offset must be 0, is -1");
    EXPECT_EQ(unmarshalError({{0x06, 1, 0, 0, 5}}), "pc 0: opcode 0x06 (gotol): dst must be 0, is 1");
    EXPECT_EQ(unmarshalError({{0x06, 0, 2, 0, 5}}), "pc 0: opcode 0x06 (gotol): src must be 0, is 2");
    EXPECT_EQ(unmarshalError({{0x06, 15, 15, 0, 5}}), "pc 0: opcode 0x06 (gotol): dst must be 0, is 15");
}

TEST(Unmarshal, RejectsWideLoadCutInHalf) {
    EXPECT_EQ(unmarshalError({{0xb7, 0, 0, 0, 0}, {0x18, 1, 0, 0, 5}}),
              "pc 1: opcode 0x18 (lddw): wide load cut off by the end of the program");
    const std::vector<std::uint8_t> bytes{0x18, 0x01, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};  // and a half slot
    auto program = unmarshal(std::span<const std::uint8_t>(bytes));
    ASSERT_FALSE(program);
    EXPECT_EQ(program.error().text(), "pc 1: truncated instruction: 4 of 8 bytes");
    EXPECT_EQ(unmarshalError({{0x18, 1, 0, 0, 5}, {0x95, 0, 0, 0, 0}}),
              "pc 0: opcode 0x18 (lddw): second slot must have opcode 0x00, is 0x95");
    EXPECT_EQ(unmarshalError({{0x18, 1, 0, 0, 5}, {0, 2, 0, 0, 0}}),
              "pc 0: opcode 0x18 (lddw): second slot dst must be 0, is 2");
    EXPECT_EQ(unmarshalError({{0x18, 1, 1, 0, 5}, {0, 0, 0, 0, 0}}), "pc 0: opcode 0x18 (lddw): src must be 0, is 1");
    // A lone second slot is opcode 0x00, which is not an instruction.
    EXPECT_EQ(unmarshalError({{0, 0, 0, 0, 1}}), "pc 0: unknown opcode 0x00");
}

TEST(Unmarshal, RejectsNonZeroUnusedFields) {
    EXPECT_EQ(unmarshalError({{0x95, 0, 2, 0, 0}}), "pc 0: opcode 0x95 (exit): src must be 0, is 2");
    EXPECT_EQ(unmarshalError({{0x07, 1, 0, 4, 1}}), "pc 0: opcode 0x07 (add): offset must be 0, is 4");
    EXPECT_EQ(unmarshalError({{0x0f, 1, 2, 0, 9}}), "pc 0: opcode 0x0f (add): imm must be 0, is 9");
    EXPECT_EQ(unmarshalError({{0x87, 1, 0, 0, -1}}), "pc 0: opcode 0x87 (neg): imm must be 0, is -1");
    EXPECT_EQ(unmarshalError({{0x05, 1, 0, 2, 0}}), "pc 0: opcode 0x05 (ja): dst must be 0, is 1");
    EXPECT_EQ(unmarshalError({{0x85, 0, 1, 0, 7}}), "pc 0: opcode 0x85 (call): src must be 0, is 1");
    EXPECT_EQ(unmarshalError({{0x79, 1, 2, 0, 3}}), "pc 0: opcode 0x79 (ldxdw): imm must be 0, is 3");
    EXPECT_EQ(unmarshalError({{0x62, 10, 1, -8, 3}}), "pc 0: opcode 0x62 (stw): src must be 0, is 1");
}

TEST(Unmarshal, RejectsMissingRegistersAndWritesToR10) {
    EXPECT_EQ(unmarshalError({{0xbf, 11, 1, 0, 0}}), "pc 0: opcode 0xbf (mov): register r11 does not exist");
    EXPECT_EQ(unmarshalError({{0x79, 1, 15, 0, 0}}), "pc 0: opcode 0x79 (ldxdw): register r15 does not exist");
    EXPECT_EQ(unmarshalError({{0xb7, 10, 0, 0, 0}}), "pc 0: opcode 0xb7 (mov): r10 is read-only");
    EXPECT_EQ(unmarshalError({{0x79, 10, 1, 0, 0}}), "pc 0: opcode 0x79 (ldxdw): r10 is read-only");
    EXPECT_EQ(unmarshalError({{0x18, 10, 0, 0, 0}, {0, 0, 0, 0, 0}}), "pc 0: opcode 0x18 (lddw): r10 is read-only");
    // r10 may be read, compared and used as a store base.
    EXPECT_EQ(unmarshalError({{0xbf, 1, 10, 0, 0}, {0x1d, 10, 1, 0, 0}, {0x7b, 10, 1, -8, 0}}), "ok");
}

TEST(Marshal, RejectsWhatUnmarshalRejects) {
    EXPECT_EQ(marshalError({Exit{}, Alu{AluOp::Neg, Reg{1}, Reg{2}}}), "pc 1: unknown opcode 0x8f");
    EXPECT_EQ(marshalError({Alu{AluOp::Neg, Reg{1}, Imm{3}}}), "pc 0: opcode 0x87 (neg): imm must be 0, is 3");
    EXPECT_EQ(marshalError({LoadImm64{Reg{1}, 5}, Store{Width::B, Reg{10}, -1, Reg{1}}}), "pc 2: unknown opcode 0x73");
    EXPECT_EQ(marshalError({Store{Width::H, Reg{10}, -2, Imm{1}}}), "pc 0: unknown opcode 0x6a");
    EXPECT_EQ(marshalError({Alu{AluOp::Mov, Reg{11}, Imm{1}}}), "pc 0: opcode 0xb7 (mov): register r11 does not exist");
    EXPECT_EQ(marshalError({Alu{AluOp::Mov, Reg{10}, Imm{1}}}), "pc 0: opcode 0xb7 (mov): r10 is read-only");
    EXPECT_EQ(marshalError({Load{Width::DW, Reg{0}, Reg{200}, 0}}),
              "pc 0: opcode 0x79 (ldxdw): register r200 does not exist");
    EXPECT_EQ(marshalError({Alu{static_cast<AluOp>(0x1d), Reg{1}, Imm{1}}}), "pc 0: unknown opcode 0x00");
    EXPECT_EQ(marshalError({Load{static_cast<Width>(3), Reg{0}, Reg{1}, 0}}), "pc 0: unknown opcode 0x00");
}

TEST(Disassembler, UsesLlvmSyntax) {
    auto text = [](Instruction insn) { return disassemble(insn); };
    EXPECT_EQ(text(Alu{AluOp::Mov, Reg{0}, Imm{1}}), "r0 = 1");
    EXPECT_EQ(text(Alu{AluOp::Add, Reg{1}, Reg{2}}), "r1 += r2");
    EXPECT_EQ(text(Alu{AluOp::Arsh, Reg{1}, Imm{-3}}), "r1 s>>= -3");
    EXPECT_EQ(text(Alu{AluOp::Neg, Reg{4}, Imm{0}}), "r4 = -r4");
    EXPECT_EQ(text(Alu{AluOp::Mod, Reg{1}, Reg{2}}), "r1 %= r2");
    EXPECT_EQ(text(Load{Width::DW, Reg{0}, Reg{1}, 8}), "r0 = *(u64 *)(r1 + 8)");
    EXPECT_EQ(text(Load{Width::B, Reg{0}, Reg{1}, -32768}), "r0 = *(u8 *)(r1 - 32768)");
    EXPECT_EQ(text(Store{Width::DW, Reg{10}, -8, Reg{1}}), "*(u64 *)(r10 - 8) = r1");
    EXPECT_EQ(text(Store{Width::W, Reg{10}, 0, Imm{-5}}), "*(u32 *)(r10 + 0) = -5");
    EXPECT_EQ(text(Jmp{Condition{Cond::Eq, Reg{1}, Imm{2}}, 3}), "if r1 == 2 goto +3");
    EXPECT_EQ(text(Jmp{Condition{Cond::Gt, Reg{1}, Reg{2}}, -1}), "if r1 > r2 goto -1");
    EXPECT_EQ(text(Jmp{Condition{Cond::Sle, Reg{1}, Imm{-1}}, 0}), "if r1 s<= -1 goto +0");
    EXPECT_EQ(text(Jmp{Condition{Cond::Set, Reg{1}, Imm{7}}, 2}), "if r1 & 7 goto +2");
    EXPECT_EQ(text(Jmp{std::nullopt, 2}), "goto +2");
    EXPECT_EQ(text(Gotol{2}), "gotol +2");
    EXPECT_EQ(text(Gotol{0}), "gotol +0");
    EXPECT_EQ(text(Gotol{-1}), "gotol -1");
    EXPECT_EQ(text(Gotol{150000}), "gotol +150000");
    EXPECT_EQ(text(Gotol{std::numeric_limits<std::int32_t>::min()}), "gotol -2147483648");
    EXPECT_EQ(text(Call{1}), "call 1");
    EXPECT_EQ(text(Exit{}), "exit");
    EXPECT_EQ(text(LoadImm64{Reg{1}, std::int64_t{1} << 32}), "r1 = 4294967296 ll");
    EXPECT_EQ(text(LoadImm64{Reg{9}, -1}), "r9 = -1 ll");
    // The raw form decodes first; an undecodable slot says why.
    EXPECT_EQ(disassemble(Insn{0x18, 2, 0, 0, -1}, Insn{0, 0, 0, 0, 0}), "r2 = 4294967295 ll");
    EXPECT_EQ(disassemble(Insn{0x8f, 1, 2, 0, 0}), "<invalid: unknown opcode 0x8f>");
    EXPECT_EQ(disassemble(Insn{0x06, 0, 0, 0, 40000}), "gotol +40000");
    EXPECT_EQ(disassemble(Insn{0x06, 0, 0, 4, 40000}), "<invalid: opcode 0x06 (gotol): offset must be 0, is 4>");
}

TEST(Disassembler, ListsAProgram) {
    const std::vector<Insn> slots{
        {0xb7, 0, 0, 0, 1}, {0x18, 1, 0, 0, 0}, {0, 0, 0, 0, 1}, {0x8f, 1, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
    std::vector<ListingLine> lines = listing(slots);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1].pc, 1u);
    EXPECT_EQ(lines[1].slots.size(), 2u);
    EXPECT_FALSE(lines[2].valid);
    EXPECT_EQ(lines[3].pc, 4u);
    lines[0].comment = "rule allow_read";
    const std::string pad(24, ' ');  // "r0 = 1" lines up with the longest text, the invalid line
    EXPECT_EQ(formatListing(lines),
              "     0: b7 00 00 00 01 00 00 00                          r0 = 1" + pad + "  # rule allow_read\n" +
                  "     1: 18 01 00 00 00 00 00 00 00 00 00 00 01 00 00 00  r1 = 4294967296 ll\n"
                  "     3: 8f 01 00 00 00 00 00 00                          <invalid: unknown opcode 0x8f>\n"
                  "     4: 95 00 00 00 00 00 00 00                          exit\n");
}

TEST(Disassembler, ListingOfAWideLoadCutOff) {
    const std::vector<Insn> slots{{0x95, 0, 0, 0, 0}, {0x18, 1, 0, 0, 0}};
    const auto lines = listing(slots);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1].text, "<invalid: opcode 0x18 (lddw): wide load cut off by the end of the program>");
    auto commented = lines;
    commented[0].comment = "deny";
    // Comments line up after at most 40 columns of text.
    EXPECT_EQ(formatListing(commented), "     0: 95 00 00 00 00 00 00 00  exit" + std::string(36, ' ') + "  # deny\n" +
                                            "     1: 18 01 00 00 00 00 00 00  " + lines[1].text + "\n");
}
