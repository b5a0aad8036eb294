// Policy text to AST: defensive pre-checks on the raw bytes and tokens, the ANTLR parse (SLL first, full LL on
// failure), syntax errors rewritten as located diagnostics, then the Converter builds the AST.
#include "omega/parse/Parser.h"

#include "Converter.h"
#include "OmegaLexer.h"
#include "OmegaParser.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace omega::parse {

using source::Diagnostic;
using source::DiagnosticEngine;
using source::FileId;
using source::Span;

namespace {

Span pointSpan(const source::SourceFile& f, FileId id, std::size_t offset) {
    source::Position p = source::positionOf(f, offset);
    return {id, p, {p.line, p.col + 1}};
}

std::string tokenDescription(antlr4::Token* t, const antlr4::dfa::Vocabulary& vocab) {
    if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
    std::string text = t->getText();
    if (text.size() > 40) text = text.substr(0, 40) + "...";
    (void)vocab;
    return "`" + text + "`";
}

// Turns ANTLR's syntax errors into diagnostics. Keeps the first error at each token to avoid cascades.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
    SyntaxErrorListener(DiagnosticEngine& diags, FileId file) : diags_(diags), file_(file) {}

    void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line, size_t col,
                     const std::string& msg, std::exception_ptr) override {
        ++count_;
        if (offending) lastOffending_ = offending->getTokenIndex();
        // One error per line: ANTLR's recovery tends to report the same mistake again at the next few tokens.
        if (line == lastLine_) return;
        if (count_ > 20) return;  // the first ones are the useful ones
        lastLine_ = line;
        auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
        std::string found = parser ? tokenDescription(offending, parser->getVocabulary()) : "input";
        std::string expected;
        if (parser) {
            try {
                antlr4::misc::IntervalSet set = parser->getExpectedTokens();
                std::vector<std::string> names;
                for (ssize_t t : set.toList()) {
                    std::string n = parser->getVocabulary().getDisplayName(t);
                    if (n == "IDENT")
                        n = "an identifier";
                    else if (n == "INT")
                        n = "a number";
                    else if (n == "STRING")
                        n = "a string";
                    else if (n == "EOF" || n == "<EOF>")
                        n = "end of file";
                    else if (n.size() >= 2 && n.front() == '\'')
                        n = "`" + n.substr(1, n.size() - 2) + "`";
                    else
                        continue;
                    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
                }
                auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
                if (names.size() > 6) {
                    // Keywords double as names in many places; summarise long alternatives, keeping any closing
                    // bracket that would end what is open (the usual mistake).
                    std::vector<std::string> summary;
                    for (const char* closer : {"`)`", "`}`"})
                        if (has(closer)) summary.push_back(closer);
                    if (has("an identifier") && has("a string") && has("a number"))
                        summary.push_back("an expression");
                    else if (has("an identifier"))
                        summary.push_back("a name");
                    if (summary.size() > (has("`)`") || has("`}`") ? 1u : 0u)) names = summary;
                }
                if (!names.empty() && names.size() <= 6) {
                    for (std::size_t i = 0; i < names.size(); ++i) {
                        expected += (i == 0 ? "" : (i + 1 == names.size() ? " or " : ", ")) + names[i];
                    }
                }
            } catch (...) {
                expected.clear();
            }
        }
        std::uint32_t width = 1;
        if (offending && offending->getType() != antlr4::Token::EOF) {
            width = static_cast<std::uint32_t>(
                std::max<std::size_t>(1, offending->getStopIndex() + 1 - offending->getStartIndex()));
        }
        source::Position begin{static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(col + 1)};
        Span span{file_, begin, {begin.line, begin.col + width}};
        // A statement ending while a `(` or `{` of it is still open: name the bracket, the usual mistake.
        antlr4::Token* open = nullptr;
        if (parser && offending && (offending->getText() == ";" || offending->getType() == antlr4::Token::EOF))
            open = unclosedBracket(parser->getTokenStream(), offending->getTokenIndex());
        if (open) expected = open->getText() == "(" ? "`)`" : "`}`";
        std::string message = expected.empty() ? "unexpected " + found : "expected " + expected + ", found " + found;
        Diagnostic& d = diags_.error("E0009", span, "syntax error: " + message,
                                     expected.empty() ? "unexpected here" : "expected " + expected);
        if (open) {
            source::Position at{static_cast<std::uint32_t>(open->getLine()),
                                static_cast<std::uint32_t>(open->getCharPositionInLine() + 1)};
            d.notes.push_back(
                {"unclosed `" + open->getText() + "` opened here", Span{file_, at, {at.line, at.col + 1}}});
        } else if (msg.rfind("missing ';'", 0) == 0 || expected == "`;`") {
            d.help = "every declaration and rule ends with `;`";
        }
    }

    std::size_t count() const { return count_; }
    std::size_t lastOffending() const { return lastOffending_; }

private:
    // The innermost bracket opened since the previous `;` (or file start) and not closed before `index`.
    static antlr4::Token* unclosedBracket(antlr4::TokenStream* tokens, std::size_t index) {
        int depth = 0;
        for (std::size_t i = index; i-- > 0;) {
            antlr4::Token* t = tokens->get(i);
            if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
            const std::string text = t->getText();
            if (text == ";") break;
            if (text == ")" || text == "}") ++depth;
            if (text == "(" || text == "{") {
                if (depth == 0) return t;
                --depth;
            }
        }
        return nullptr;
    }

public:
private:
    DiagnosticEngine& diags_;
    FileId file_;
    std::size_t count_ = 0;
    std::size_t lastLine_ = 0;
    std::size_t lastOffending_ = 0;
};

// Reports the first syntax error it meets, then abandons the parse: ANTLR's own recovery tends to report the same
// mistake again at later, valid tokens. The caller resumes at the next item to find further errors.
class FirstErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
    void recover(antlr4::Parser*, std::exception_ptr) override { throw antlr4::ParseCancellationException(); }
    antlr4::Token* recoverInline(antlr4::Parser* parser) override { bail(parser); }

protected:
    // Where the default strategy would delete or invent a token and go on, report and stop instead.
    void reportUnwantedToken(antlr4::Parser* parser) override { bail(parser); }
    void reportMissingToken(antlr4::Parser* parser) override { bail(parser); }

private:
    [[noreturn]] void bail(antlr4::Parser* parser) {
        antlr4::InputMismatchException e(parser);
        reportError(parser, e);
        throw antlr4::ParseCancellationException();
    }
};

// The first token after `from` that can start an item and follows a `;` or `}`: where parsing resumes.
std::optional<std::size_t> resumePoint(const std::vector<antlr4::Token*>& tokens, std::size_t from) {
    static const std::set<std::string> starts{"import", "label", "attribute", "agent",  "tool",   "data",   "kernels",
                                              "set",    "group", "require",   "permit", "forbid", "assert", "test"};
    std::string previous;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        antlr4::Token* t = tokens[i];
        if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
        std::string text = t->getType() == antlr4::Token::EOF ? "" : t->getText();
        if (i > from && (previous == ";" || previous == "}") && t->getType() != OmegaLexer::IDENT && starts.count(text))
            return i;
        previous = text;
    }
    return std::nullopt;
}

// Lexer errors are impossible by construction (ERROR_CHAR takes any character), but a listener keeps ANTLR from
// printing to stderr if that ever changes.
class SilentListener : public antlr4::BaseErrorListener {
public:
    void syntaxError(antlr4::Recognizer*, antlr4::Token*, size_t, size_t, const std::string&,
                     std::exception_ptr) override {}
};

// Checks the raw bytes: binary content and invalid UTF-8.
bool checkBytes(const source::SourceFile& f, FileId id, DiagnosticEngine& diags) {
    auto nul = f.text.find('\0');
    if (nul != std::string::npos) {
        diags
            .error("E0002", pointSpan(f, id, nul), "file is not policy text: it contains a NUL byte",
                   "binary data here")
            .help = "policy sources are UTF-8 text files ending in `.omega`";
        return false;
    }
    if (auto bad = source::findInvalidUtf8(f.text)) {
        std::ostringstream hex;
        hex << std::hex << static_cast<unsigned>(static_cast<unsigned char>(f.text[*bad]));
        diags
            .error("E0001", pointSpan(f, id, *bad), "invalid UTF-8 in source (byte 0x" + hex.str() + ")",
                   "invalid byte")
            .help = "save the file as UTF-8";
        return false;
    }
    return true;
}

Span tokenSpan(FileId file, antlr4::Token* t) {
    source::Position begin{static_cast<std::uint32_t>(t->getLine()),
                           static_cast<std::uint32_t>(t->getCharPositionInLine() + 1)};
    source::Position end = begin;
    // Tokens may span lines (block comments); walk the text in code points.
    std::string text = t->getText();
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) == 0x80) continue;
        if (c == '\n') {
            ++end.line;
            end.col = 1;
        } else {
            ++end.col;
        }
    }
    return {file, begin, end};
}

// Lexical problems the grammar turns into tokens, plus limits on identifier length and nesting depth that keep
// the recursive-descent parser far from the end of the stack.
bool checkTokens(const std::vector<antlr4::Token*>& tokens, FileId file, DiagnosticEngine& diags,
                 const source::Limits& limits) {
    bool ok = true;
    std::size_t depth = 0;
    std::size_t notRun = 0;
    bool depthReported = false;
    std::size_t lastErrorLine = 0;
    for (antlr4::Token* t : tokens) {
        std::size_t type = t->getType();
        if (type == OmegaLexer::UNTERMINATED_STRING) {
            Span s = tokenSpan(file, t);
            s.end = {s.begin.line, s.begin.col + 1};
            diags.error("E0004", s, "unterminated string literal", "string starts here").help =
                "close the string with `\"` on the same line";
            ok = false;
        } else if (type == OmegaLexer::UNTERMINATED_COMMENT) {
            Span s = tokenSpan(file, t);
            s.end = {s.begin.line, s.begin.col + 2};
            diags.error("E0005", s, "unterminated block comment", "comment starts here").help =
                "close the comment with `*/`";
            ok = false;
        } else if (type == OmegaLexer::ERROR_CHAR) {
            // One report per line: a run of stray characters is one mistake.
            if (t->getLine() != lastErrorLine) {
                std::string text = t->getText();
                diags.error("E0006", tokenSpan(file, t), "unexpected character `" + text + "`", "not valid here");
            }
            lastErrorLine = t->getLine();
            ok = false;
        } else if (type == OmegaLexer::IDENT && t->getText().size() > limits.maxIdentifierLength) {
            Span s = tokenSpan(file, t);
            if (s.end.line == s.begin.line && s.end.col > s.begin.col + 20) s.end.col = s.begin.col + 20;
            diags.error("E0007", s,
                        "identifier is " + std::to_string(t->getText().size()) + " characters long; the limit is " +
                            std::to_string(limits.maxIdentifierLength),
                        "identifier starts here");
            ok = false;
        } else if (type == OmegaLexer::STRING && t->getText().size() > limits.maxStringLength + 2) {
            Span s = tokenSpan(file, t);
            if (s.end.line == s.begin.line && s.end.col > s.begin.col + 20) s.end.col = s.begin.col + 20;
            diags.error("E0013", s,
                        "string literal is " + std::to_string(t->getText().size() - 2) + " bytes long; the limit is " +
                            std::to_string(limits.maxStringLength),
                        "string starts here");
            ok = false;
        }
        std::string text = type == OmegaLexer::IDENT ? std::string() : t->getText();
        if (text == "(" || text == "{") {
            ++depth;
        } else if (text == ")" || text == "}") {
            if (depth > 0) --depth;
        }
        if (text == "not")
            ++notRun;
        else if (text != "(" && text != "{")
            notRun = 0;
        if (!depthReported && depth + notRun > limits.maxNesting) {
            diags
                .error("E0008", tokenSpan(file, t),
                       "nesting is deeper than " + std::to_string(limits.maxNesting) + " levels", "too deep here")
                .help = "split the condition into several rules or named sets";
            depthReported = true;
            ok = false;
        }
        if (diags.full()) return false;
    }
    return ok;
}

}  // namespace

std::optional<ast::Module> parseModule(const source::SourceManager& sm, FileId file, DiagnosticEngine& diags,
                                       const source::Limits& limits) {
    const source::SourceFile& f = sm.file(file);
    try {
        if (f.text.size() > limits.maxFileBytes) {
            // The loader stops reading just past the limit, so the text's size is not the file's size.
            diags
                .error(
                    "E0003", pointSpan(f, file, 0),
                    "file is larger than " + std::to_string(limits.maxFileBytes) + " bytes, the limit for one module",
                    "file starts here")
                .help = "split the policy into modules joined with `import`";
            return std::nullopt;
        }
        if (!checkBytes(f, file, diags)) return std::nullopt;

        antlr4::ANTLRInputStream input(f.text);
        OmegaLexer lexer(&input);
        SilentListener silent;
        lexer.removeErrorListeners();
        lexer.addErrorListener(&silent);
        antlr4::CommonTokenStream tokens(&lexer);
        tokens.fill();

        std::vector<antlr4::Token*> all = tokens.getTokens();
        if (!checkTokens(all, file, diags, limits)) return std::nullopt;

        bool onlyEof = std::all_of(all.begin(), all.end(), [](antlr4::Token* t) {
            return t->getType() == antlr4::Token::EOF || t->getChannel() != antlr4::Token::DEFAULT_CHANNEL;
        });
        if (onlyEof) {
            Span s = pointSpan(f, file, f.text.size());
            diags.error("E0010", s, "empty module: expected a `policy` header", "expected `policy ...` here").help =
                "start the file with `policy NAME version N by principal \"...\";`";
            return std::nullopt;
        }

        OmegaParser parser(&tokens);
        parser.removeErrorListeners();
        // Stage one: SLL with bail-out, fast and right for almost all input.
        parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
        parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
        OmegaParser::ModuleContext* tree = nullptr;
        try {
            tree = parser.module();
        } catch (antlr4::ParseCancellationException&) {
            tree = nullptr;
        }
        if (!tree) {
            // Stage two: full LL. On a syntax error, report it and resume at the next item, so the user gets one
            // message per real mistake and every mistake in one run.
            tokens.seek(0);
            parser.reset();
            parser.setErrorHandler(std::make_shared<FirstErrorStrategy>());
            parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
                antlr4::atn::PredictionMode::LL);
            SyntaxErrorListener listener(diags, file);
            parser.addErrorListener(&listener);
            try {
                tree = parser.module();
            } catch (antlr4::ParseCancellationException&) {
                tree = nullptr;
            }
            std::size_t from = listener.lastOffending();
            while (listener.count() > 0 && listener.count() < 20 && !diags.full()) {
                auto resume = resumePoint(all, from);
                if (!resume) break;
                parser.reset();
                tokens.seek(*resume);
                try {
                    parser.items();
                    break;
                } catch (antlr4::ParseCancellationException&) {
                    if (listener.lastOffending() <= from) break;  // no progress
                    from = listener.lastOffending();
                }
            }
            if (listener.count() > 0 || !tree) return std::nullopt;
        }

        std::vector<ast::Comment> comments;
        for (antlr4::Token* t : all) {
            if (t->getType() != OmegaLexer::LINE_COMMENT && t->getType() != OmegaLexer::BLOCK_COMMENT) continue;
            ast::Comment c{t->getText(), tokenSpan(file, t), true};
            std::size_t index = t->getTokenIndex();
            if (index > 0) {
                antlr4::Token* prev = all[index - 1];
                Span ps = tokenSpan(file, prev);
                c.ownLine = ps.end.line < c.span.begin.line || prev->getType() == antlr4::Token::EOF;
            }
            comments.push_back(std::move(c));
        }
        return convertModule(tree, file, std::move(comments), diags, limits);
    } catch (const std::exception& e) {
        diags.error("E0900", pointSpan(f, file, 0), std::string("internal error while parsing: ") + e.what());
    } catch (...) {
        diags.error("E0900", pointSpan(f, file, 0), "internal error while parsing");
    }
    return std::nullopt;
}

}  // namespace omega::parse
