# Run after ANTLR generates the parser: writes OmegaAntlrRuntime.h, the runtime's umbrella header without
# misc/InterpreterDataReader.h (clang rejects it: it default-constructs a class whose default constructor is deleted)
# and the XPath headers, and points the generated sources at it. Input: GEN_DIR, RUNTIME_HEADER.
file(READ "${RUNTIME_HEADER}" umbrella)
string(REPLACE "#include \"misc/InterpreterDataReader.h\"" "" umbrella "${umbrella}")
# The XPath headers include the full umbrella again; Omega does not use XPath.
string(REGEX REPLACE "#include \"tree/xpath/[A-Za-z]+\\.h\"" "" umbrella "${umbrella}")
file(WRITE "${GEN_DIR}/OmegaAntlrRuntime.h" "${umbrella}")
foreach(name OmegaLexer.h OmegaParser.h OmegaVisitor.h OmegaBaseVisitor.h)
  file(READ "${GEN_DIR}/${name}" text)
  string(REPLACE "#include \"antlr4-runtime.h\"" "#include \"OmegaAntlrRuntime.h\"" text "${text}")
  file(WRITE "${GEN_DIR}/${name}" "${text}")
endforeach()
